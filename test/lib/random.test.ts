// The one xorshift32 (Marsaglia 2003, shifts 13/17/5): deterministic from its seed, never stuck at 0.
import { expect, test } from 'vitest';
import { randomBytes, Xorshift32 } from '../../src/lib/random.js';

test('the first values of seed 1 are xorshift32 13/17/5', () => {
  const r = new Xorshift32(1);
  expect([r.next(), r.next(), r.next()]).toEqual([270369, 67634689, 2647435461]);
});

test('a zero seed starts as 1, and the same seed gives the same stream', () => {
  expect(randomBytes(0, 16)).toEqual(randomBytes(1, 16));
  expect(randomBytes(7, 64)).toEqual(randomBytes(7, 64));
  expect(randomBytes(7, 64)).not.toEqual(randomBytes(8, 64));
});

test('float() is in [0, 1) and below(n) in 0..n-1', () => {
  const r = new Xorshift32(42);
  for (let i = 0; i < 1000; i++) {
    const f = r.float();
    expect(f >= 0 && f < 1).toBe(true);
    const b = r.below(7);
    expect(Number.isInteger(b) && b >= 0 && b < 7).toBe(true);
  }
});
