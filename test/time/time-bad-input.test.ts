// Bad input on the clock: a delay or a timer in the past, or not a number, is a typed error naming
// the function and the argument, and nothing is scheduled; a callback that throws is reported
// (kernel log and m.eventErrors) and the machine keeps running its other events.
import { expect, test } from 'vitest';
import { createMachine, GFP_KERNEL } from '../../src/index.js';
import { expectDmaSimError } from '../support/helpers.js';

test('negative or non-numeric delays and timers are refused and change nothing', async () => {
  const m = await createMachine({ seed: 1 });
  const t0 = m.now();
  for (const [fn, call] of [
    ['ndelay', () => m.ndelay(-1)], ['udelay', () => m.udelay(Number.NaN)], ['msleep', () => m.msleep('1' as never)],
    ['schedule', () => m.schedule(-5, () => {})], ['schedule', () => m.schedule(5, 'x' as never)],
  ] as const) {
    expectDmaSimError(fn, call);
  }
  expect(m.clock.pending).toBe(0);
  expect(m.now()).toBe(t0);
});

test('a throwing callback is reported and the next event still runs', async () => {
  const m = await createMachine({ seed: 1 });
  let later = false;
  m.schedule(10, function brokenTimer() { throw new Error('boom'); });
  m.schedule(20, () => { later = true; });
  m.udelay(1);
  expect(later).toBe(true);
  expect(m.eventErrors.map((e) => e.name)).toEqual(['brokenTimer']);
  expect(m.dmesg().some((l) => l.includes('brokenTimer') && l.includes('boom'))).toBe(true);
  m.cpu.writel(m.kmalloc(64, GFP_KERNEL), 1); // still usable
});
