// The single map/unmap calls check their arguments twice over: a fused guard (singleArgsOk) and,
// only when it fails, the detailed checks that name the refused argument (kernel/dma/mapping.c's
// callers can pass nothing else). The guard may only ever say "ordinary": whenever it holds,
// each detailed check passes and leaves attrs at 0 and the direction valid (no DMA_NONE BUG).
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { singleArgsOk } from '../../src/dma/mapping.js';
import { Device } from '../../src/dma/device.js';
import { checkAttrs, checkDir, DMA_NONE } from '../../src/include/dma-mapping.js';
import { checkAddr, checkSize } from '../../src/lib/validate.js';
import { smallMachine } from '../support/helpers.js';

const m = await smallMachine({ arch: 'arm64' });
const dev = m.createDevice({ name: 'guard' });

/** Numbers near every boundary the checks draw, and values of other types. */
const edgy = fc.oneof(
  fc.integer({ min: -2, max: 4 }),
  fc.constantFrom(-0, 0.5, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, Number.MAX_VALUE, NaN, Infinity, -Infinity, -1),
  fc.double(),
  fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom('1', null, undefined, true, 1n, {}, [1]),
);

test.prop([fc.constantFrom<unknown>(dev, {}, null, { machine: m }), edgy, edgy, edgy, edgy], { seed: 18, numRuns: 3000 })(
  'singleArgsOk() holds only where every detailed check passes with attrs 0 and a valid direction',
  (d, addr, size, dir, attrs) => {
    if (!singleArgsOk(d, addr, size, dir, attrs)) return;
    expect(d).toBeInstanceOf(Device);
    expect(checkAddr('t', 'addr', addr)).toBe(addr);
    expect(checkSize('t', 'size', size)).toBe(size);
    expect(checkDir('t', dir)).not.toBe(DMA_NONE);
    expect(checkAttrs('t', attrs)).toBe(0);
  },
);

test('singleArgsOk() takes the ordinary call of every direction, and no other device or attrs', () => {
  for (const dir of [0, 1, 2]) expect(singleArgsOk(dev, 0x4000_0000, 1500, dir, 0)).toBe(true);
  expect(singleArgsOk(dev, 0x4000_0000, 1500, DMA_NONE, 0)).toBe(false);
  expect(singleArgsOk(dev, 0x4000_0000, 1500, 1, 1)).toBe(false);
  expect(singleArgsOk({ machine: m }, 0x4000_0000, 1500, 1, 0)).toBe(false);
});
