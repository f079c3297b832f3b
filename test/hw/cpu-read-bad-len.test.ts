// cpu.read(ptr, len) checks len and the range before it allocates its result (issue 13, item 8):
// a length no kernel could pass is a DmaSimError naming cpu.read and len, a range no mapping
// backs one naming ptr, and nothing changes. cpu.readb/readw/readl name themselves (item 12).
import { describe, test } from 'vitest';
import { createMachine, DmaSimRangeError, DmaSimTypeError, GFP_KERNEL } from '../../src/index.js';
import { refused } from '../support/refused.js';

describe('cpu.read with a length no kernel could pass', () => {
  test('-1, 2^33, Infinity, 1n, a Symbol, a string', async () => {
    const m = await createMachine();
    const p = m.kmalloc(64, GFP_KERNEL);
    refused(m, () => m.cpu.read(p, -1), 'cpu.read', 'len', DmaSimRangeError);
    refused(m, () => m.cpu.read(p, 2 ** 33), 'cpu.read', 'ptr', DmaSimRangeError);
    refused(m, () => m.cpu.read(p, Infinity), 'cpu.read', 'len', DmaSimRangeError);
    refused(m, () => m.cpu.read(p, 1n as never), 'cpu.read', 'len', DmaSimTypeError);
    refused(m, () => m.cpu.read(p, Symbol('x') as never), 'cpu.read', 'len', DmaSimTypeError);
    refused(m, () => m.cpu.read(p, '4' as never), 'cpu.read', 'len', DmaSimTypeError);
  });

  test('a register load that straddles into nothing names the load called', async () => {
    const m = await createMachine();
    const last = m.vmalloc(4096);
    refused(m, () => m.cpu.readl(last + 4094), 'cpu.readl', 'ptr', DmaSimRangeError);
    refused(m, () => m.cpu.readw(last + 4095), 'cpu.readw', 'ptr', DmaSimRangeError);
    refused(m, () => m.cpu.readb(-1), 'cpu.readb', 'ptr', DmaSimRangeError);
  });
});
