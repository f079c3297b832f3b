// The printk number formats (lib/vsprintf.c, Linux 7.1): a number is the u64 the kernel prints,
// so a negative one wraps as (u64)-1 does; %#x puts 0x before zero too (number() with SPECIAL).
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { hashPointer, llx, pa, sharpX, x016 } from '../../src/lib/vsprintf.js';

test('%016llx and %llx of ~0 (DMA_MAPPING_ERROR is -1)', () => {
  expect(x016(-1)).toBe('ffffffffffffffff');
  expect(llx(-1)).toBe('ffffffffffffffff');
  expect(x016(2n ** 64n - 1n)).toBe('ffffffffffffffff');
});

test('%pa and %pad: 0x and 16 digits; %#x: 0x and the digits, zero included', () => {
  expect(pa(0x4000_1000)).toBe('0x0000000040001000');
  expect(sharpX(0)).toBe('0x0');
  expect(sharpX(0x1f)).toBe('0x1f');
});

test.prop([fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })])('a number and its bigint print alike, as a u64', (v) => {
  expect(x016(v)).toBe(v.toString(16).padStart(16, '0'));
  if (v <= BigInt(Number.MAX_SAFE_INTEGER)) expect(x016(Number(v))).toBe(x016(v));
  if (v > 0n && v <= 2n ** 53n) expect(llx(-Number(v))).toBe((2n ** 64n - v).toString(16));
});

test('%p hashes: 8 zero digits, then 8 that depend on the key and the pointer', () => {
  const a = hashPointer(1, 0xffff_0000_1000);
  expect(a).toMatch(/^00000000[0-9a-f]{8}$/);
  expect(hashPointer(1, 0xffff_0000_1000)).toBe(a);
  expect(hashPointer(2, 0xffff_0000_1000)).not.toBe(a);
});
