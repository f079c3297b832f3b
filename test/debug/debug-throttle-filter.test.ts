// err_printk(): every error counts in error_count; it is printed only if the driver filter lets
// the device through and the budget allows (all_errors, or num_errors > 0, which starts at 1);
// the budget is spent even when the filter hid the error. The filter comes from debugfs or from
// dma_debug_driver= on the command line, and after a driver is released its device has no
// driver, so the filter hides it.
import { describe, expect, test } from 'vitest';
import { DMA_TO_DEVICE, dma_unmap_single } from '../../src/index.js';
import { probe64 } from '../support/api-helpers.js';
import { DMA_API, rig, warnings, x016 } from '../support/debug-helpers.js';

const P = 'DMA-API: mynic 0000:01:00.0';
const bad = (n: number): string => `device driver tries to free DMA memory it has not allocated [device address=0x${x016(0x1_0000_0000 + n * 0x10000)}] [size=64 bytes]`;

describe('the error budget', () => {
  test('by default only the first error is printed; error_count counts them all; num_errors ends at 0', async () => {
    const { m, dev, log } = await rig();
    for (let i = 0; i < 3; i++) dma_unmap_single(dev, 0x1_0000_0000 + i * 0x10000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([`${P}: ${bad(0)}`]);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('3\n');
    expect(m.debugfs.read(`${DMA_API}/num_errors`)).toBe('0\n');
  });

  test('num_errors=N prints N more, then silence', async () => {
    const { m, dev, log } = await rig();
    m.debugfs.write(`${DMA_API}/num_errors`, '2\n');
    for (let i = 0; i < 4; i++) dma_unmap_single(dev, 0x1_0000_0000 + i * 0x10000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([`${P}: ${bad(0)}`, `${P}: ${bad(1)}`]);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('4\n');
  });

  test('all_errors prints everything and leaves num_errors alone', async () => {
    const { m, dev, log } = await rig();
    m.debugfs.write(`${DMA_API}/all_errors`, '1');
    for (let i = 0; i < 3; i++) dma_unmap_single(dev, 0x1_0000_0000 + i * 0x10000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toHaveLength(3);
    expect(m.debugfs.read(`${DMA_API}/num_errors`)).toBe('1\n');
  });
});

describe('the driver filter', () => {
  test('another driver\'s errors are counted, hidden, and still spend the budget', async () => {
    const { m, dev, log } = await rig();
    m.debugfs.write(`${DMA_API}/driver_filter`, 'otherdrv\n');
    expect(log()).toContain('DMA-API: enable driver filter for driver [otherdrv]');
    dma_unmap_single(dev, 0x1_0000_0000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([]);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('1\n');
    expect(m.debugfs.read(`${DMA_API}/num_errors`)).toBe('0\n');
    m.debugfs.write(`${DMA_API}/driver_filter`, '\n');
    expect(log()).toContain('DMA-API: switching off dma-debug driver filter');
    dma_unmap_single(dev, 0x1_0001_0000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([]); // the budget is gone
  });

  test('the filtered driver\'s errors get through, others do not', async () => {
    const { m, dev, log } = await rig();
    const other = probe64(m, { name: '0000:02:00.0', driver: 'otherdrv' });
    m.debugfs.write(`${DMA_API}/all_errors`, '1');
    m.debugfs.write(`${DMA_API}/driver_filter`, 'mynic');
    dma_unmap_single(other, 0x1_0000_0000, 64, DMA_TO_DEVICE);
    dma_unmap_single(dev, 0x1_0001_0000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([`${P}: ${bad(1)}`]);
  });

  test('dma_debug_driver= on the command line sets the filter at boot and says so', async () => {
    const { m, dev, log } = await rig({ cmdline: 'dma_debug_driver=otherdrv' });
    expect(m.dmesg()).toContain('DMA-API: enable driver filter for driver [otherdrv]');
    expect(m.debugfs.read(`${DMA_API}/driver_filter`)).toBe('otherdrv\n');
    dma_unmap_single(dev, 0x1_0000_0000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([]);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('1\n');
  });

  test('a driver name is compared on its first 63 characters', async () => {
    const long = `d${'x'.repeat(70)}`;
    const { m, dev, log } = await rig({}, { driver: long });
    m.debugfs.write(`${DMA_API}/driver_filter`, long);
    expect(m.debugfs.read(`${DMA_API}/driver_filter`)).toBe(`${long.slice(0, 63)}\n`);
    dma_unmap_single(dev, 0x1_0000_0000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toHaveLength(1);
  });
});
