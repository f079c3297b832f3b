// The map-time checks of kernel/dma/debug.c: debug_dma_map_single()'s invalid-area and vmalloc
// checks (unreachable through dma_map_single(), which rejects vmalloc memory first, and on
// arm64 the kernel image is in the vmalloc range), check_for_stack() on the vmapped task stack
// ("probable addr"), check_for_illegal_area() (which cannot fire on arm64 or x86_64), and
// check_sg_segment()'s length and boundary checks. %p prints hashed pointers.
import { describe, expect, test } from 'vitest';
import {
  DMA_MAPPING_ERROR, DMA_TO_DEVICE, GFP_KERNEL, dma_map_phys, dma_map_sg, dma_map_single, sg_init_table, sg_set_page, sg_set_buf,
} from '../../src/index.js';
import { pfnToPage, __va } from '../../src/mm/memory.js';
import { allErrors, expectWarn, rig, warnings, x016 } from '../support/debug-helpers.js';
import { warning } from '../support/warn.js';

const P = 'DMA-API: mynic 0000:01:00.0';

describe('debug_dma_map_single', () => {
  test('arm64: a static object is vmalloc memory (KIMAGE_VADDR = VMALLOC_START): dma_map_single() rejects it', async () => {
    // include/linux/dma-mapping.h dma_map_single_attrs(): dev_WARN_ONCE(dev, is_vmalloc_addr(ptr),
    // "rejecting DMA map of vmalloc memory\n"), before debug_dma_map_single() is called.
    const { m, dev, log } = await rig();
    const buf = m.staticAlloc('data', 256);
    expect(dma_map_single(dev, buf, 256, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(log()).toContain('mynic 0000:01:00.0: rejecting DMA map of vmalloc memory');
    expect(warnings(log())).toEqual([]);
  });

  test('dma_map_single() of vmalloc memory: the WARN_ONCE of dma_map_single_attrs() comes first and nothing reaches dma-debug', async () => {
    const { m, dev, log } = await rig();
    const v = m.vmalloc(8192);
    dma_map_single(dev, v, 64, DMA_TO_DEVICE);
    expect(log()).toContain('mynic 0000:01:00.0: rejecting DMA map of vmalloc memory');
    expect(warnings(log())).toEqual([]);
  });

  test('the hook itself reports vmalloc memory (and, being no linear address, an invalid area)', async () => {
    const { m, dev, dbg, log } = await rig();
    allErrors(m);
    const v = m.vmalloc(8192);
    m.dmaDebug!.map_single(dev, v, 64);
    expect(warnings(log())).toEqual([
      `${P}: device driver maps memory from invalid area [addr=${dbg.hashPtr(v)}] [len=64]`,
      `${P}: device driver maps memory from vmalloc area [addr=${dbg.hashPtr(v)}] [len=64]`,
    ]);
    expectWarn(log(), P, `device driver maps memory from vmalloc area [addr=${dbg.hashPtr(v)}] [len=64]`, warning('debug_dma_map_single'));
  });

  test('%p is hashed: 8 zero digits and 32 bits of hash, stable for a seed', async () => {
    const { dbg } = await rig();
    expect(dbg.hashPtr(0x18_0000_0000_1000)).toMatch(/^00000000[0-9a-f]{8}$/);
    expect(dbg.hashPtr(0x18_0000_0000_1000)).not.toBe(dbg.hashPtr(0x18_0000_0000_1008));
    const again = await rig();
    expect(again.dbg.hashPtr(0x18_0000_0000_1000)).toBe(dbg.hashPtr(0x18_0000_0000_1000));
  });
});

describe('check_for_stack and check_for_illegal_area', () => {
  test('a buffer on the (vmalloc\'d) stack: "maps memory from stack [probable addr=%p]"', async () => {
    const { m, dev, dbg, log } = await rig();
    const onStack = m.stackAlloc(64);
    const phys = m.vm.translate(onStack);
    dma_map_phys(dev, phys, 64, DMA_TO_DEVICE);
    expectWarn(log(), P, `device driver maps memory from stack [probable addr=${dbg.hashPtr(onStack)}]`, warning('check_for_stack'));
  });

  test('the stack check runs on every sg entry', async () => {
    const { m, dev, dbg, log } = await rig();
    const onStack = m.stackAlloc(64);
    const phys = m.vm.translate(onStack);
    const sgl = sg_init_table(2);
    sg_set_buf(sgl[0]!, m.kmalloc(512, GFP_KERNEL), 512);
    sg_set_page(sgl[1]!, pfnToPage(Math.floor(phys / 4096)), 64, phys % 4096);
    expect(dma_map_sg(dev, sgl, 2, DMA_TO_DEVICE)).toBe(2);
    expectWarn(log(), P, `device driver maps memory from stack [probable addr=${dbg.hashPtr(onStack)}]`, warning('check_for_stack'));
  });

  test('.rodata on arm64 is rejected as vmalloc memory before any dma-debug check', async () => {
    const { m, dev, log } = await rig();
    allErrors(m);
    expect(dma_map_single(dev, m.staticAlloc('rodata', 128), 128, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(log()).toContain('mynic 0000:01:00.0: rejecting DMA map of vmalloc memory');
    expect(warnings(log())).toEqual([]);
  });

  test('.text on x86_64 maps, and check_for_illegal_area() (linear alias vs _stext.._etext) stays silent', async () => {
    // kernel/dma/debug.c debug_dma_map_phys(): check_for_illegal_area(dev, phys_to_virt(phys),
    // size). The linear alias lies in the direct map, the image at __START_KERNEL_map: they
    // never meet, so the kernel never reports this on x86_64 (or arm64).
    const { m, dev, log } = await rig({ arch: 'x86_64' });
    allErrors(m);
    const text = m.staticAlloc('text', 64);
    expect(dma_map_single(dev, text, 64, DMA_TO_DEVICE)).toBe(m.virt_to_phys(text));
    const ro = m.staticAlloc('rodata', 64);
    expect(dma_map_single(dev, ro, 64, DMA_TO_DEVICE)).toBe(m.virt_to_phys(ro));
    expect(warnings(log())).toEqual([]);
  });

  test('.data and .bss are fine to map', async () => {
    const { m, dev, log } = await rig({ arch: 'x86_64' });
    dma_map_single(dev, m.staticAlloc('data', 64), 64, DMA_TO_DEVICE);
    dma_map_single(dev, m.staticAlloc('bss', 64), 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([]);
  });
});

describe('check_sg_segment', () => {
  test('a segment longer than dma_get_max_seg_size(), which is 64 KiB without dma_parms', async () => {
    const { m, dev, log } = await rig();
    const page = m.alloc_pages(GFP_KERNEL, 5)!;
    const sgl = sg_init_table(1);
    sg_set_page(sgl[0]!, page, 131072, 0);
    expect(dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE)).toBe(1);
    expectWarn(log(), P, 'mapping sg segment longer than device claims to support [len=131072] [max=65536]', warning('debug_dma_map_sg', 'kernel/dma/debug.c:1201'));
  });

  test('a segment across the device\'s segment boundary', async () => {
    const { m, dev, log } = await rig({}, { segBoundaryMask: 0xffffn, maxSegmentSize: 1 << 20 });
    const page = m.alloc_pages(GFP_KERNEL, 5)!;
    const phys = m.page_to_phys(page);
    const sgl = sg_init_table(1);
    sg_set_page(sgl[0]!, page, 0x2000, 0xf000);
    expect(dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE)).toBe(1);
    expectWarn(log(), P, `mapping sg segment across boundary [start=0x${x016(phys + 0xf000)}] [end=0x${x016(phys + 0x10fff)}] [boundary=0x000000000000ffff]`, warning('debug_dma_map_sg'));
  });
});
