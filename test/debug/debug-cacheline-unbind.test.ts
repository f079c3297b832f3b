// The active-cacheline tracker (first cacheline of every mapping but DMA_TO_DEVICE ones; EEXIST
// reported only when dma_get_cache_alignment() >= L1_CACHE_BYTES and swiotlb cannot bounce
// unaligned kmalloc buffers, and not with SKIP_CPU_SYNC or two cache-clean mappings; more than 7
// overlaps is a WARN_ONCE), the leak report when a driver is released (m.unbind), and the
// synthetic "Mapped at:" chain of every API that creates an entry.
import { describe, expect, test } from 'vitest';
import {
  DMA_ATTR_DEBUGGING_IGNORE_CACHELINES, DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
  dma_alloc_attrs, dma_alloc_noncoherent, dma_alloc_pages, dma_free_attrs, dma_free_noncoherent, dma_free_pages,
  dma_map_page, dma_map_phys, dma_map_resource, dma_map_sgtable, dma_map_single, dma_unmap_page, dma_unmap_phys,
  dma_unmap_resource, dma_unmap_sgtable, dma_unmap_single, sg_alloc_table, sg_set_buf,
} from '../../src/index.js';
import { probe64 } from '../support/api-helpers.js';
import { allErrors, DMA_API, expectWarn, rig, SINGLE_FRAMES, warnings, x016 } from '../support/debug-helpers.js';
import { warning } from '../support/warn.js';

const P = 'DMA-API: mynic 0000:01:00.0';
const EEXIST = "cacheline tracking EEXIST, overlapping mappings aren't supported";
/** arm64 without a swiotlb pool: kmalloc buffers are cache-line aligned and nothing bounces. */
const NOFORCE = { cmdline: 'swiotlb=noforce' };

describe('active cacheline tracking', () => {
  test('two FROM_DEVICE mappings of one cacheline: EEXIST, with the new mapping\'s trace', async () => {
    const { m, dev, log } = await rig(NOFORCE);
    expect(m.swiotlb).toBeNull();
    const buf = m.kmalloc(256, GFP_KERNEL);
    dma_map_single(dev, buf, 128, DMA_FROM_DEVICE);
    expect(warnings(log())).toEqual([]);
    dma_map_single(dev, buf + 32, 64, DMA_BIDIRECTIONAL);
    expectWarn(log(), P, EEXIST, warning('add_dma_entry'), SINGLE_FRAMES);
  });

  test('exemptions: DMA_TO_DEVICE, SKIP_CPU_SYNC, both mappings cache-clean, and a different first line', async () => {
    const { m, dev, log } = await rig(NOFORCE);
    allErrors(m);
    const buf = m.kmalloc(512, GFP_KERNEL);
    dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
    dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
    dma_map_single(dev, buf, 64, DMA_FROM_DEVICE);
    dma_map_single(dev, buf, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    dma_map_single(dev, buf + 64, 64, DMA_FROM_DEVICE); // its first line is the next one
    const c = buf + 256;
    dma_map_single(dev, c, 64, DMA_FROM_DEVICE, DMA_ATTR_DEBUGGING_IGNORE_CACHELINES);
    dma_map_single(dev, c, 64, DMA_FROM_DEVICE, DMA_ATTR_DEBUGGING_IGNORE_CACHELINES);
    expect(warnings(log())).toEqual([]);
    dma_map_single(dev, buf + 128, 64, DMA_FROM_DEVICE, DMA_ATTR_DEBUGGING_IGNORE_CACHELINES);
    dma_map_single(dev, buf + 128, 64, DMA_FROM_DEVICE); // only the first mapping is clean
    expect(warnings(log())).toEqual([`${P}: ${EEXIST}`]);
  });

  test('never on x86_64 (dma_get_cache_alignment() is 1) nor on arm64 with its kmalloc-bounce swiotlb', async () => {
    for (const opts of [{ arch: 'x86_64' as const }, {}]) {
      const { m, dev, log } = await rig(opts);
      const buf = m.kmalloc(256, GFP_KERNEL);
      dma_map_single(dev, buf, 128, DMA_FROM_DEVICE);
      dma_map_single(dev, buf, 128, DMA_FROM_DEVICE);
      expect(warnings(log())).toEqual([]);
    }
  });

  test('more than 7 overlaps: WARN_ONCE "exceeded 7 overlapping mappings of cacheline %pa"', async () => {
    const { m, dev, log } = await rig(NOFORCE);
    const buf = m.kmalloc(128, GFP_KERNEL);
    const cln = Math.floor(m.virt_to_phys(buf) / 64);
    for (let i = 0; i < 8; i++) dma_map_single(dev, buf, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    expect(log()).not.toContain(CUT_LINE);
    dma_map_single(dev, buf, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    dma_map_single(dev, buf, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    const msg = `DMA-API: exceeded 7 overlapping mappings of cacheline 0x${x016(cln)}`;
    expect(log().filter((l) => l === msg)).toHaveLength(1);
    const i = log().indexOf(msg);
    expect(log()[i + 1]).toBe(warning('add_dma_entry', 'kernel/dma/debug.c:467'));
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('0\n');
  });

  test('a line is tracked until its last mapping goes', async () => {
    const { m, dev, log } = await rig(NOFORCE);
    const buf = m.kmalloc(128, GFP_KERNEL);
    const a = dma_map_single(dev, buf, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    dma_map_single(dev, buf, 32, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    dma_unmap_single(dev, a, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    dma_map_single(dev, buf, 16, DMA_FROM_DEVICE); // still one mapping there
    expect(warnings(log())).toEqual([`${P}: ${EEXIST}`]);
  });
});

const CUT_LINE = '------------[ cut here ]------------';

describe('driver release', () => {
  test('pending mappings: reported under the bus name (dev->driver is already NULL), the last one found shown', async () => {
    const { m, dev, log } = await rig();
    const a = m.kmalloc(256, GFP_KERNEL);
    const b = m.kmalloc(64 << 10, GFP_KERNEL);
    const ha = dma_map_single(dev, a, 256, DMA_TO_DEVICE);
    const hb = dma_map_single(dev, b, 4096, DMA_FROM_DEVICE);
    const last = Math.floor(hb / 8192) % 16384 > Math.floor(ha / 8192) % 16384 ? { h: hb, n: 4096, d: 'DMA_FROM_DEVICE' } : { h: ha, n: 256, d: 'DMA_TO_DEVICE' };
    m.unbind(dev);
    expect(dev.bound).toBe(false);
    expectWarn(log(), 'DMA-API: pci 0000:01:00.0',
      `device driver has pending DMA allocations while released from device [count=2]\nOne of leaked entries details: [device address=0x${x016(last.h)}] [size=${last.n} bytes] [mapped with ${last.d}] [mapped as phy]`,
      warning('dma_debug_device_change', 'kernel/dma/debug.c:881'), SINGLE_FRAMES);
    m.unbind(dev);
    expect(warnings(log())).toHaveLength(1);
  });

  test('a device with nothing mapped, another device\'s mappings, and a platform device (no notifier: silent)', async () => {
    // kernel/dma/debug.c dma_debug_add_bus() registers dma_debug_device_change() on a bus; only
    // drivers/pci/pci-driver.c calls it (pci_driver_init(): dma_debug_add_bus(&pci_bus_type)).
    const { m, dev, log } = await rig();
    const plat = probe64(m, { name: 'soc:ethernet', driver: 'stmmac' });
    dma_map_single(plat, m.kmalloc(64, GFP_KERNEL), 64, DMA_TO_DEVICE);
    m.unbind(dev);
    expect(warnings(log())).toEqual([]);
    m.unbind(plat);
    expect(warnings(log())).toEqual([]);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('0\n');
    expect(m.debugfs.read(`${DMA_API}/dump`)).toMatch(/^stmmac soc:ethernet|^platform soc:ethernet/);
  });

  test('with a driver filter set, the released device (no driver) is always filtered out', async () => {
    const { m, dev, log } = await rig({ cmdline: 'dma_debug_driver=mynic' });
    dma_map_single(dev, m.kmalloc(64, GFP_KERNEL), 64, DMA_TO_DEVICE);
    m.unbind(dev);
    expect(warnings(log())).toEqual([]);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('1\n');
  });

  test('m.unbind refuses what is not a device of this machine', async () => {
    const { m } = await rig();
    const other = await rig();
    expect(() => m.unbind(other.dev)).toThrow(/unbind: dev/);
    expect(() => m.unbind({} as never)).toThrow(/unbind: dev/);
  });
});

describe('Mapped at:', () => {
  test('each API that makes an entry has its chain, innermost first, ending in the call the driver made', async () => {
    const { m, dev, log } = await rig({}, { coherent: true });
    allErrors(m);
    const page = m.alloc_pages(GFP_KERNEL, 0)!;
    const p = m.page_to_phys(page);
    const cases: [() => void, string[]][] = [
      [() => dma_unmap_page(dev, dma_map_page(dev, page, 0, 64, DMA_TO_DEVICE), 32, DMA_TO_DEVICE), ['debug_dma_map_phys', 'dma_map_phys', 'dma_map_page_attrs', 'dma_map_page']],
      [() => dma_unmap_phys(dev, dma_map_phys(dev, p + 64, 64, DMA_TO_DEVICE), 32, DMA_TO_DEVICE), ['debug_dma_map_phys', 'dma_map_phys']],
      [() => dma_unmap_resource(dev, dma_map_resource(dev, 0x1000_0000, 64, DMA_TO_DEVICE), 32, DMA_TO_DEVICE), ['debug_dma_map_phys', 'dma_map_phys', 'dma_map_resource']],
      [() => {
        const t = sg_alloc_table(1);
        sg_set_buf(t.sgl[0]!, m.kmalloc(512, GFP_KERNEL), 512);
        dma_map_sgtable(dev, t, DMA_TO_DEVICE);
        dma_unmap_sgtable(dev, t, DMA_FROM_DEVICE);
      }, ['debug_dma_map_sg', '__dma_map_sg_attrs', 'dma_map_sgtable']],
      [() => {
        const c = dma_alloc_attrs(dev, 4096, GFP_KERNEL)!;
        dma_free_attrs(dev, 8192, c.cpu_addr, c.dma_handle);
      }, ['debug_dma_alloc_coherent', 'dma_alloc_attrs']],
      [() => {
        const r = dma_alloc_pages(dev, 4096, DMA_FROM_DEVICE, GFP_KERNEL)!;
        dma_free_pages(dev, 4096, r.page, r.dma_handle, DMA_TO_DEVICE);
      }, ['debug_dma_alloc_pages', '__dma_alloc_pages', 'dma_alloc_pages']],
      [() => {
        const r = dma_alloc_noncoherent(dev, 4096, DMA_FROM_DEVICE, GFP_KERNEL)!;
        dma_free_noncoherent(dev, 4096, r.cpu_addr, r.dma_handle, DMA_TO_DEVICE);
      }, ['debug_dma_alloc_pages', '__dma_alloc_pages', 'dma_alloc_pages', 'dma_alloc_noncoherent']],
    ];
    for (const [run, frames] of cases) {
      const from = log().length;
      run();
      const l = log().slice(from);
      const at = l.indexOf('DMA-API: Mapped at:');
      expect(at, frames.join(' ')).toBeGreaterThan(0);
      expect(l.slice(at + 1, at + 1 + frames.length)).toEqual(frames.map((f) => ` ${f}`));
    }
  });
});
