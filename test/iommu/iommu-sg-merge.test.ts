// Rule: drivers/iommu/dma-iommu.c iommu_dma_map_sg() maps the whole list into ONE IOVA range and
// __finalise_sg() merges entries into DMA segments: an entry joins the open segment when it
// starts on a granule (stashed offset 0), the running IOVA is not on a segment boundary, and the
// segment stays within dma_get_max_seg_size() (64 KiB without dma_parms); an entry that ends
// short of its granule closes the segment. Entries are padded so that none crosses the segment
// boundary. So dma_map_sg() returns fewer entries than nents, and unmap takes the original nents
// (Documentation/core-api/dma-api.rst).
import { describe, expect, test } from 'vitest';
import {
  DMA_BIDIRECTIONAL, DMA_TO_DEVICE, dma_map_sg, dma_unmap_sg, GFP_KERNEL, sg_dma_address, sg_dma_len, sg_init_table, sg_set_buf,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import type { Scatterlist } from '../../src/dma/scatterlist.js';
import { delta, pattern } from '../support/api-helpers.js';
import { iommuDevice, iommuMachine } from '../support/iommu-helpers.js';

function pages(m: Machine, n: number, seed: number): { sgl: Scatterlist[]; data: Uint8Array } {
  const sgl = sg_init_table(n);
  const data = pattern(n * 4096, seed);
  for (let i = 0; i < n; i++) {
    const va = m.kmalloc(4096, GFP_KERNEL);
    m.cpu.write(va, data.subarray(i * 4096, (i + 1) * 4096));
    sg_set_buf(sgl[i]!, va, 4096);
  }
  return { sgl, data };
}

function segments(sgl: Scatterlist[], n: number): [number, number][] {
  return sgl.slice(0, n).map((s) => [sg_dma_address(s), sg_dma_len(s)]);
}

describe('IOMMU scatter-gather merging', () => {
  test('64 x 4 KiB pages: 4 segments of 64 KiB over one contiguous IOVA range; the device reads it all', async () => {
    const { m, dev } = await iommuMachine();
    const { sgl, data } = pages(m, 64, 1);
    let n = 0;
    const d = delta(m, () => { n = dma_map_sg(dev, sgl, 64, DMA_TO_DEVICE); });
    expect(n).toBe(4);
    const base = 2 ** 48 - 64 * 4096; // 64 granules, aligned to 64
    expect(segments(sgl, 4)).toEqual([0, 1, 2, 3].map((k) => [base + k * 65536, 65536]));
    expect(sg_dma_len(sgl[4]!)).toBe(0);
    expect(dev.dmaRead(base, 64 * 4096)).toEqual(data);
    expect(d.iommuMaps).toBeGreaterThanOrEqual(1);
    // The entries' own fields are intact.
    expect(sgl.every((s) => s.length === 4096 && s.offset === 0)).toBe(true);
    dma_unmap_sg(dev, sgl, 64, DMA_TO_DEVICE);
    expect(() => dev.dmaRead(base, 4)).toThrow();
  });

  test('a larger max_segment_size merges more: 64 pages in 2 segments of 128 KiB', async () => {
    const { m } = await iommuMachine();
    const dev = iommuDevice(m, { name: 'nvme0', iommu: true, maxSegmentSize: 128 << 10 });
    const { sgl } = pages(m, 64, 2);
    expect(dma_map_sg(dev, sgl, 64, DMA_TO_DEVICE)).toBe(2);
    expect(sg_dma_len(sgl[0]!)).toBe(128 << 10);
  });

  test('an entry that does not start or end on a granule cuts the segments around it', async () => {
    const { m, dev } = await iommuMachine();
    const sgl = sg_init_table(3);
    const a = m.kmalloc(4096, GFP_KERNEL);
    const b = m.kmalloc(4096, GFP_KERNEL);
    const c = m.kmalloc(4096, GFP_KERNEL);
    sg_set_buf(sgl[0]!, a, 4096);
    sg_set_buf(sgl[1]!, b + 100, 1000);
    sg_set_buf(sgl[2]!, c, 4096);
    m.cpu.write(b + 100, pattern(1000, 3));
    expect(dma_map_sg(dev, sgl, 3, DMA_BIDIRECTIONAL)).toBe(3);
    const base = 2 ** 48 - 4 * 4096; // 3 granules, rounded to 4 and aligned
    expect(segments(sgl, 3)).toEqual([[base, 4096], [base + 4096 + 100, 1000], [base + 8192, 4096]]);
    expect(dev.dmaRead(base + 4096 + 100, 1000)).toEqual(pattern(1000, 3));
    expect(sgl[1]!.offset).toBe((b + 100) % 4096);
    dma_unmap_sg(dev, sgl, 3, DMA_BIDIRECTIONAL);
  });

  test('segment boundary 8 KiB: segments never cross it, and an entry is padded up to it', async () => {
    const { m } = await iommuMachine();
    const dev: Device = iommuDevice(m, { name: 'sata0', iommu: true, segBoundaryMask: 0x1fffn });
    const four = pages(m, 4, 4);
    expect(dma_map_sg(dev, four.sgl, 4, DMA_TO_DEVICE)).toBe(2);
    const s = segments(four.sgl, 2);
    expect(s.map(([, len]) => len)).toEqual([8192, 8192]);
    for (const [addr, len] of s) expect(Math.floor(addr / 8192)).toBe(Math.floor((addr + len - 1) / 8192));

    // 4 KiB then 8 KiB: the second would start mid-boundary, so the first is padded by 4 KiB.
    const sgl = sg_init_table(2);
    sg_set_buf(sgl[0]!, m.kmalloc(4096, GFP_KERNEL), 4096);
    sg_set_buf(sgl[1]!, m.kmalloc(8192, GFP_KERNEL), 8192);
    expect(dma_map_sg(dev, sgl, 2, DMA_TO_DEVICE)).toBe(2);
    const [[a0, l0], [a1, l1]] = segments(sgl, 2) as [[number, number], [number, number]];
    expect([l0, l1]).toEqual([4096, 8192]);
    expect(a1 - a0).toBe(8192);
    expect(a1 % 8192).toBe(0);
  });
});
