// The one pseudo-random generator of dmasim (and of its tests): Marsaglia's xorshift32 (shifts 13,
// 17, 5; "Xorshift RNGs", J. Stat. Softw. 8(14), 2003). Everything random derives from a seed, so
// a run is replayed exactly by keeping it. The engine has its own copy in AssemblyScript.

export class Xorshift32 {
  private x: number;

  /** A zero state would stay zero: it becomes 1. */
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }

  /** The next 32-bit value. */
  next(): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.x = x;
    return x;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  /** In 0 .. n - 1. */
  below(n: number): number {
    return this.next() % n;
  }
}

/** `n` bytes, each the low byte of the next value from `seed`. */
export function randomBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  randomBytesInto(seed, out);
  return out;
}

/** randomBytes() into `out`, for a caller that reuses its buffer. */
export function randomBytesInto(seed: number, out: Uint8Array): void {
  const rng = new Xorshift32(seed);
  for (let i = 0; i < out.length; i++) out[i] = rng.next() & 0xff;
}
