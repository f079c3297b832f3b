// check_sync() of kernel/dma/debug.c: a sync of memory never mapped; a partial sync past the end
// of a mapping (reported as "not allocated": the containing lookup fails, so the "outside
// allocated range" message cannot fire); direction mismatches; read-only and write-only syncs;
// sg entry counts; and the sg sync of a list never mapped, which checks nothing.
import { describe, expect, test } from 'vitest';
import {
  DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
  dma_map_sg, dma_map_single, dma_sync_sg_for_cpu, dma_sync_sg_for_device, dma_sync_single_for_cpu,
  dma_sync_single_for_device, dma_sync_single_range_for_cpu, sg_init_table, sg_set_buf,
} from '../../src/index.js';
import { allErrors, expectWarn, rig, SINGLE_FRAMES, warnings, x016 } from '../support/debug-helpers.js';
import { warning } from '../support/warn.js';

const P = 'DMA-API: mynic 0000:01:00.0';

describe('check_sync', () => {
  test('syncing memory never mapped', async () => {
    const { dev, log } = await rig();
    dma_sync_single_for_cpu(dev, 0x1_0020_0000, 128, DMA_FROM_DEVICE);
    expectWarn(log(), P, `device driver tries to sync DMA memory it has not allocated [device address=0x${x016(0x1_0020_0000)}] [size=128 bytes]`, warning('check_sync', 'kernel/dma/debug.c:1106'));
  });

  test('a range sync inside the mapping is fine, also from an earlier 8 KiB bucket', async () => {
    const { m, dev, log } = await rig();
    const buf = m.kmalloc(65536, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 65536, DMA_FROM_DEVICE);
    dma_sync_single_range_for_cpu(dev, h, 40000, 100, DMA_FROM_DEVICE);
    expect(warnings(log())).toEqual([]);
  });

  test('a partial sync past the end of the mapping is "not allocated"', async () => {
    const { m, dev, log } = await rig();
    const buf = m.kmalloc(128, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 100, DMA_TO_DEVICE);
    dma_sync_single_range_for_cpu(dev, h, 50, 100, DMA_TO_DEVICE);
    expectWarn(log(), P, `device driver tries to sync DMA memory it has not allocated [device address=0x${x016(h + 50)}] [size=100 bytes]`, warning('check_sync', 'kernel/dma/debug.c:1106'));
  });

  test('a different direction (the size printed is the mapping\'s)', async () => {
    const { m, dev, log } = await rig();
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_FROM_DEVICE);
    dma_sync_single_range_for_cpu(dev, h, 0, 256, DMA_BIDIRECTIONAL);
    expectWarn(log(), P, `device driver syncs DMA memory with different direction [device address=0x${x016(h)}] [size=512 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_BIDIRECTIONAL]`, warning('check_sync'), SINGLE_FRAMES);
  });

  test('a TO_DEVICE mapping synced for the CPU as FROM_DEVICE: direction, then "read-only ... for cpu"', async () => {
    const { m, dev, log } = await rig();
    allErrors(m);
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_TO_DEVICE);
    dma_sync_single_for_cpu(dev, h, 512, DMA_FROM_DEVICE);
    const f = `[device address=0x${x016(h)}] [size=512 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]`;
    expect(warnings(log())).toEqual([
      `${P}: device driver syncs DMA memory with different direction ${f}`,
      `${P}: device driver syncs device read-only DMA memory for cpu ${f}`,
    ]);
    expectWarn(log(), P, `device driver syncs device read-only DMA memory for cpu ${f}`, warning('check_sync'), SINGLE_FRAMES);
  });

  test('a FROM_DEVICE mapping synced for the device as TO_DEVICE: direction, then "write-only ... to device"', async () => {
    const { m, dev, log } = await rig();
    allErrors(m);
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_FROM_DEVICE);
    dma_sync_single_for_device(dev, h, 512, DMA_TO_DEVICE);
    const f = `[device address=0x${x016(h)}] [size=512 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]`;
    expect(warnings(log())).toEqual([
      `${P}: device driver syncs DMA memory with different direction ${f}`,
      `${P}: device driver syncs device write-only DMA memory to device ${f}`,
    ]);
  });

  test('a BIDIRECTIONAL mapping may be synced in any direction', async () => {
    const { m, dev, log } = await rig();
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_BIDIRECTIONAL);
    dma_sync_single_for_cpu(dev, h, 512, DMA_TO_DEVICE);
    dma_sync_single_for_device(dev, h, 512, DMA_FROM_DEVICE);
    expect(warnings(log())).toEqual([]);
  });

  test('an sg sync with a different entry count', async () => {
    const { m, dev, log } = await rig();
    allErrors(m);
    const sgl = sg_init_table(3);
    for (const sg of sgl) sg_set_buf(sg, m.kmalloc(1024, GFP_KERNEL), 1024);
    expect(dma_map_sg(dev, sgl, 3, DMA_FROM_DEVICE)).toBe(3);
    dma_sync_sg_for_cpu(dev, sgl, 2, DMA_FROM_DEVICE);
    expect(warnings(log())).toEqual([
      `${P}: device driver syncs DMA sg list with different entry count [map count=3] [sync count=2]`,
      `${P}: device driver syncs DMA sg list with different entry count [map count=3] [sync count=2]`,
    ]);
    expectWarn(log(), P, 'device driver syncs DMA sg list with different entry count [map count=3] [sync count=2]', warning('check_sync'),
      ['debug_dma_map_sg', '__dma_map_sg_attrs', 'dma_map_sg_attrs', 'dma_map_sg']);
  });

  test('syncing an sg list that was never mapped checks nothing (no first entry, no count)', async () => {
    const { m, dev, log } = await rig();
    const sgl = sg_init_table(2);
    for (const sg of sgl) sg_set_buf(sg, m.kmalloc(1024, GFP_KERNEL), 1024);
    dma_sync_sg_for_device(dev, sgl, 2, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([]);
  });
});
