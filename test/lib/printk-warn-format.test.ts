// Rule: the WARN report of Linux 6.19 and later (kernel/panic.c __warn(), changed by
// 28ea295f941e in v6.19-rc1): __warn_printk() prints the "cut here" banner and the message, then
// __warn() prints
//   pr_warn("WARNING: %s:%d at %pS, CPU#%d: %s/%d\n", file, line, caller, cpu, comm, pid)
// ("WARNING: at %pS, CPU#%d: %s/%d\n" when the bug table has no file), and
// print_oops_end_marker() ends every report with "---[ end trace 0000000000000000 ]---" (the
// trace id is a constant 0). A BUG goes through lib/bug.c report_bug(): the "cut here" banner,
// then pr_crit("kernel BUG at %s:%u!\n", file, line) ("Kernel BUG at %pB [verbose debug info
// unavailable]" without a file). dmasim's calls run on CPU 0 in kernel_init: comm "swapper/0",
// PID 1.
import { describe, expect, test } from 'vitest';
import { createMachine, DMA_BIT_MASK, DMA_TO_DEVICE, dma_map_single, dma_set_mask, GFP_KERNEL, KernelBug } from '../../src/index.js';
import { KERN_CRIT, KERN_WARNING, KernelLog } from '../../src/lib/printk.js';

const CUT = '------------[ cut here ]------------';
const END = '---[ end trace 0000000000000000 ]---';

describe('kernel/panic.c __warn(): the 6.19+ WARNING banner', () => {
  test('a WARN at a known line: message, "WARNING: <file>:<line> at <func>+0x0/0x0, CPU#0: swapper/0/1", zero trace id', async () => {
    const m = await createMachine({ seed: 3, cmdline: 'swiotlb=noforce' });
    const dev = m.createDevice({ name: '0000:01:00.0', driver: 'mynic' });
    expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
    const buf = m.kmalloc(1500, GFP_KERNEL); // above 4 GiB: dma_direct_map_phys() overflows
    const before = m.dmesg().length;
    dma_map_single(dev, buf, 1500, DMA_TO_DEVICE);
    const log = m.dmesg().slice(before);
    expect(log).toEqual([
      CUT,
      `mynic 0000:01:00.0: DMA addr 0x${m.virt_to_phys(buf).toString(16).padStart(16, '0')}+1500 overflow (mask ffffffff, bus limit 0).`,
      // kernel/dma/direct.h:129 in the v7.1-rc1 tree read; dma_direct_map_phys() is inlined
      // into mapping.c's dma_map_phys(), which %pS names.
      'WARNING: kernel/dma/direct.h:129 at dma_map_phys+0x0/0x0, CPU#0: swapper/0/1',
      END,
    ]);
    expect(m.log.entries().slice(before).every((r) => r.level === KERN_WARNING)).toBe(true);
  });

  test('every report ends with the same zero trace id; a site with no file prints the no-file form', () => {
    const log = new KernelLog();
    log.warn({ file: 'kernel/dma/debug.c', line: 1106, fn: 'check_sync' }, 'first');
    log.warn({ file: 'kernel/dma/debug.c', line: null, fn: 'check_unmap' }, 'second');
    expect(log.lines()).toEqual([
      CUT, 'first', 'WARNING: kernel/dma/debug.c:1106 at check_sync+0x0/0x0, CPU#0: swapper/0/1', END,
      CUT, 'second', 'WARNING: at check_unmap+0x0/0x0, CPU#0: swapper/0/1', END,
    ]);
    expect(log.entries().every((r) => r.level === KERN_WARNING)).toBe(true);
  });

  test('WARN_ONCE: once per call site, not per message or per device', () => {
    const log = new KernelLog();
    const a = { file: 'kernel/dma/mapping.c', line: null, fn: '__dma_alloc_pages' };
    const b = { file: 'kernel/dma/mapping.c', line: null, fn: '__dma_alloc_pages' };
    log.warnOnce(a, 'one');
    log.warnOnce(a, 'two');
    log.warnOnce(b, 'three'); // another WARN_ON_ONCE in the same function has its own flag
    expect(log.lines().filter((l) => !l.startsWith('-') && !l.startsWith('WARNING'))).toEqual(['one', 'three']);
  });
});

describe('lib/bug.c report_bug(): a BUG', () => {
  test('"cut here", then "kernel BUG at <file>:<line>!" at KERN_CRIT, and the call does not return', () => {
    const log = new KernelLog();
    expect(() => log.bug({ file: 'kernel/dma/swiotlb.c', line: 1111, fn: 'swiotlb_search_pool_area' }, 'BUG_ON(!nslots)')).toThrow(KernelBug);
    expect(log.entries()).toEqual([
      { level: KERN_WARNING, text: CUT },
      { level: KERN_CRIT, text: 'kernel BUG at kernel/dma/swiotlb.c:1111!' },
    ]);
  });

  test('without a file: "Kernel BUG at <%pB> [verbose debug info unavailable]"', () => {
    const log = new KernelLog();
    expect(() => log.bug({ file: 'kernel/dma/mapping.c', line: null, fn: 'dma_map_phys' }, 'invalid DMA direction 3')).toThrow(KernelBug);
    expect(log.lines()).toEqual([CUT, 'Kernel BUG at dma_map_phys+0x0/0x0 [verbose debug info unavailable]']);
  });
});
