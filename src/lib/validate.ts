// Argument checks for input no kernel could receive. Each throws a DmaSimError naming the public
// function and the argument, before the caller has changed anything.

import { DmaSimRangeError, DmaSimTypeError } from './errors.js';

// The checks run on every DMA call: each keeps its hot path a few bytecodes long, so V8 inlines
// it, and builds its message in a separate function that only a refusal reaches.

function refuseNumber(fn: string, arg: string, v: unknown, what: string): never {
  if (typeof v !== 'number') throw new DmaSimTypeError(fn, arg, `must be a number, got ${typeof v}`);
  throw new DmaSimRangeError(fn, arg, `must be ${what}, got ${String(v)}`);
}

/** A non-negative safe integer (sizes, lengths, orders). */
export function checkSize(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) refuseNumber(fn, arg, v, 'a non-negative integer');
  return v;
}

/** An address: a non-negative safe integer (API.md: every simulated address is below 2^53). */
export function checkAddr(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) refuseNumber(fn, arg, v, 'an integer address below 2^53');
  return v;
}

/** An integer in [lo, hi]. */
export function checkIntIn(fn: string, arg: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number') throw new DmaSimTypeError(fn, arg, `must be a number, got ${typeof v}`);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new DmaSimRangeError(fn, arg, `must be an integer in ${lo}..${hi}, got ${String(v)}`);
  return v;
}

export function isPowerOfTwo(v: number): boolean {
  return Number.isSafeInteger(v) && v > 0 && Number.isInteger(Math.log2(v));
}

/** A power of two in [lo, hi]. */
export function checkPowerOfTwo(fn: string, arg: string, v: unknown, lo: number, hi: number): number {
  const n = checkIntIn(fn, arg, v, lo, hi);
  if (!isPowerOfTwo(n)) throw new DmaSimRangeError(fn, arg, `must be a power of two, got ${n}`);
  return n;
}

/** Bytes to write: a Uint8Array (or an array of byte values). */
export function checkBytes(fn: string, arg: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(v as number[]);
  throw new DmaSimTypeError(fn, arg, 'must be a Uint8Array or an array of byte values');
}

export function checkBool(fn: string, arg: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new DmaSimTypeError(fn, arg, `must be a boolean, got ${typeof v}`);
  return v;
}

/** An options object: undefined (all defaults) or a plain object whose keys are all `known`. */
export function checkOptions(fn: string, arg: string, v: unknown, known: readonly string[]): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DmaSimTypeError(fn, arg, `must be an object, got ${v === null ? 'null' : typeof v}`);
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) throw new DmaSimRangeError(fn, `${arg}.${key}`, `is not an option (known: ${known.join(', ')})`);
  }
  return v as Record<string, unknown>;
}

/** A number that must at least be one (an address query answers "no" for a negative one). */
export function checkNumber(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') throw new DmaSimTypeError(fn, arg, `must be a number, got ${typeof v}`);
  if (!Number.isSafeInteger(v)) throw new DmaSimRangeError(fn, arg, `must be an integer, got ${String(v)}`);
  return v;
}

export function checkString(fn: string, arg: string, v: unknown): string {
  if (typeof v !== 'string') throw new DmaSimTypeError(fn, arg, `must be a string, got ${typeof v}`);
  return v;
}
