// The kernel image: _text.._end laid out as arch/arm64/kernel/vmlinux.lds.S lays it out (text,
// rodata, data, bss, each section page-aligned), reserved in memblock at boot and mapped at
// KIMAGE_VADDR. m.staticAlloc() hands out objects inside a section, so that mapping a static
// buffer for DMA is caught as the kernel catches it.

import { KIMAGE_VADDR, PAGE_SIZE } from './memory.js';

export type Section = 'text' | 'rodata' | 'data' | 'bss';
export const SECTIONS: readonly Section[] = ['text', 'rodata', 'data', 'bss'];

/** Bytes of each section: a small kernel, enough for the statics a test or a demo declares. */
const SECTION_BYTES: Readonly<Record<Section, number>> = { text: 256 << 10, rodata: 128 << 10, data: 64 << 10, bss: 64 << 10 };
export const KIMAGE_BYTES = SECTIONS.reduce((s, k) => s + SECTION_BYTES[k], 0);

interface SectionState {
  readonly start: number;
  readonly end: number;
  next: number;
}

export class KernelImage {
  private readonly sections = new Map<Section, SectionState>();

  /** @param phys where the image was placed in RAM (memblock-reserved by the caller). */
  constructor(readonly phys: number) {
    let at = KIMAGE_VADDR;
    for (const s of SECTIONS) {
      this.sections.set(s, { start: at, end: at + SECTION_BYTES[s], next: at });
      at += SECTION_BYTES[s];
    }
  }

  /** Allocates `size` bytes in a section, aligned to `align`; 0 when the section is full. */
  alloc(section: Section, size: number, align: number): number {
    const s = this.sections.get(section);
    if (s === undefined) return 0;
    const at = Math.ceil(s.next / align) * align;
    if (at + size > s.end) return 0;
    s.next = at + Math.max(size, 1);
    return at;
  }

  /** [start, end) of a section's virtual addresses (_stext/_etext, __start_rodata/__end_rodata, ...). */
  bounds(section: Section): readonly [number, number] {
    const s = this.sections.get(section) as SectionState;
    return [s.start, s.end];
  }

  /** The section holding a kernel-image address, or undefined. */
  sectionOf(virt: number): Section | undefined {
    for (const [name, s] of this.sections) if (virt >= s.start && virt < s.end) return name;
    return undefined;
  }

  /** __kimg_to_phys(): -1 outside the image. */
  toPhys(virt: number): number {
    const off = virt - KIMAGE_VADDR;
    return off >= 0 && off < KIMAGE_BYTES ? this.phys + off : -1;
  }

  static readonly alignment = PAGE_SIZE;
}
