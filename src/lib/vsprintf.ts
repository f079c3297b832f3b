// The printk number formats dmasim's messages use (lib/vsprintf.c): %llx, %016llx, %#llx, %pa and
// %pad, %px, and %p's hashed pointer. A number is the u64 the kernel would print: a negative one
// (DMA_MAPPING_ERROR is -1) wraps as a 64-bit two's complement, as (u64)-1 does.

/** The u64 in hex digits, no padding. */
function u64Hex(v: number | bigint): string {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v).toString(16);
  return v < 0 ? BigInt.asUintN(64, BigInt(v)).toString(16) : v.toString(16);
}

/** %llx */
export function llx(v: number | bigint): string {
  return u64Hex(v);
}

/** %016llx, and %px (a pointer, unhashed: 16 digits on a 64-bit kernel). */
export function x016(v: number | bigint): string {
  return u64Hex(v).padStart(16, '0');
}

/** %#llx and %#x: number() puts the 0x before every value, zero included. */
export function sharpX(v: number | bigint): string {
  return `0x${u64Hex(v)}`;
}

/** %pa and %pad (phys_addr_t, dma_addr_t): 0x and the 16 digits of the value. */
export function pa(v: number | bigint): string {
  return `0x${x016(v)}`;
}

/** The key %p hashes with: derived from the seed (boot-time randomness in the kernel). */
export function ptrHashKey(seed: number): number {
  return (seed * 2654435761) >>> 0;
}

/**
 * %p: a hashed pointer (ptr_to_id()), as printk prints it once the hash key is ready: the low 32
 * bits of a keyed hash, zero-padded to the 16 digits of a 64-bit pointer. The kernel's hash is
 * siphash keyed at boot; this is a murmur3-style mix keyed by the seed, so logs stay deterministic.
 */
export function hashPointer(key: number, ptr: number): string {
  let h = Math.imul((key ^ 0x9e3779b9) >>> 0, 0x85ebca6b) >>> 0;
  for (const w of [ptr >>> 0, Math.floor(ptr / 0x1_0000_0000) >>> 0]) {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) >>> 0;
  }
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return `00000000${(h >>> 0).toString(16).padStart(8, '0')}`;
}
