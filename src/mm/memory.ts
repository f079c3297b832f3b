// The kernel virtual address layout of the simulated machine, after arch/arm64/include/asm/memory.h.
//
// The real kernel lives at the top of the 64-bit space (0xffff...), which a JavaScript number
// cannot hold exactly. dmasim keeps the same regions in the same order, moved below 2^53 so that
// every address is an exact `number` (API.md). The regions never overlap, so classifying an
// address (linear map, vmalloc, vmemmap, kernel image) is a range check, as in the kernel's
// is_vmalloc_addr() and __is_lm_address().

import { PAGE_SIZE } from '../include/page.js';

export { PAGE_SHIFT, PAGE_SIZE } from '../include/page.js';
export const PAGE_MASK = -PAGE_SIZE;

/** Physical addresses are kept below 2^48 (arm64's largest PA size, CONFIG_ARM64_PA_BITS_48). */
export const PHYS_ADDR_LIMIT = 2 ** 48;

/** Linear map: virt = PAGE_OFFSET + phys for every byte of RAM. */
export const PAGE_OFFSET = 0x10_0000_0000_0000;
/** vmalloc area: vmalloc(), vmap(), task stacks (CONFIG_VMAP_STACK), uncached DMA remaps. */
export const VMALLOC_START = 0x18_0000_0000_0000;
export const VMALLOC_END = 0x18_0100_0000_0000;
/** vmemmap: the array of struct page; a page handle is VMEMMAP_START + pfn * STRUCT_PAGE_SIZE. */
export const VMEMMAP_START = 0x1c_0000_0000_0000;
export const STRUCT_PAGE_SIZE = 64;
/** Kernel image mapping (KIMAGE_VADDR): _text .. _end, i.e. text, rodata, data and bss. */
export const KIMAGE_VADDR = 0x1e_0000_0000_0000;
export const KIMAGE_END = 0x1e_0001_0000_0000;

/** A `struct page *`: opaque to users, an address in vmemmap to the simulator. */
export type Page = number & { readonly __brand: 'struct page' };

export function pfnToPage(pfn: number): Page {
  return (VMEMMAP_START + pfn * STRUCT_PAGE_SIZE) as Page;
}

export function pageToPfn(page: Page): number {
  return (page - VMEMMAP_START) / STRUCT_PAGE_SIZE;
}

/** True for a value that has the form of a struct page pointer (it may still name no RAM). */
export function isPageHandle(x: number): boolean {
  return Number.isSafeInteger(x) && x >= VMEMMAP_START && x < KIMAGE_VADDR && (x - VMEMMAP_START) % STRUCT_PAGE_SIZE === 0;
}

/** __is_lm_address(): inside the linear map's virtual range. */
export function isLinearMapAddress(virt: number): boolean {
  return virt >= PAGE_OFFSET && virt < PAGE_OFFSET + PHYS_ADDR_LIMIT;
}

/** is_vmalloc_addr(). */
export function isVmallocAddr(virt: number): boolean {
  return virt >= VMALLOC_START && virt < VMALLOC_END;
}

/** Inside the kernel image (_text.._end). */
export function isKernelImageAddr(virt: number): boolean {
  return virt >= KIMAGE_VADDR && virt < KIMAGE_END;
}

/** __va(): the linear-map alias of a physical address. */
export function __va(phys: number): number {
  return PAGE_OFFSET + phys;
}

/** __pa() for a linear-map address. */
export function __pa(virt: number): number {
  return virt - PAGE_OFFSET;
}

export function pageAlign(size: number): number {
  return Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
}

/** get_order(): the smallest order whose block holds `size` bytes. */
export function getOrder(size: number): number {
  let order = 0;
  while (PAGE_SIZE * 2 ** order < size) order++;
  return order;
}
