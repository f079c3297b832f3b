// The one ABI shared by the engine (AssemblyScript) and the host (TypeScript).
//
// Both compilers import this file, so a constant can never differ between the two sides of the
// boundary. It holds plain `export const NAME = value` lines (no enums: they would become WASM
// globals, and erasableSyntaxOnly TS forbids them) and one function that both sides evaluate:
// abiFingerprint(). The engine exports its compiled value; the host compares it with its own at
// load, so a core.wasm built from another version of this file is refused at once.
//
// Adding a constant: add it below AND to abiFingerprint(), and bump ABI_VERSION. The batched
// ring steps' layout is in abi-ring.ts, fingerprinted the same way (abiRingFingerprint()).

/** 4: the cache's data array is way-major (assembly/cache.ts slotAddr()), as the host reads it. */
export const ABI_VERSION = 4;

// ---- per-RAM-line directory byte (one byte per line of simulated RAM) ----------------------
//
//   bit  7      6       5 ........ 0
//      +------+-------+--------------+
//      | rsvd | DIRTY | way + 1      |   way + 1 == 0: the line is not in the cache
//      +------+-------+--------------+
//
// The directory makes "is this line cached, and is it dirty?" a single byte load, so range
// operations (clean, invalidate, device snoops) scan it 16 lines at a time instead of searching
// every set. The set is implied by the address, so the way is all that needs storing.
export const LD_WAY_MASK = 0x3f;
export const LD_DIRTY = 0x40;
/** Ways are stored as way + 1 in six bits. */
export const MAX_WAYS = 32;

/** Tag of an empty cache slot (tags hold the WASM line number of the cached RAM line). */
export const EMPTY_TAG = -1;

// ---- replacement policies ---------------------------------------------------------------
export const REPL_LRU = 0;
export const REPL_RANDOM = 1;

// ---- line states returned by lineState() --------------------------------------------------
export const LINE_INVALID = 0;
export const LINE_CLEAN = 1;
export const LINE_DIRTY = 2;

// ---- counters: u64 slots in the counter block, indexed by these numbers ---------------------
export const CNT_CACHE_HITS = 0;
export const CNT_CACHE_MISSES = 1;
/** Valid lines pushed out to make room (capacity or eviction pressure). */
export const CNT_EVICTIONS = 2;
/** Dirty lines written to RAM for any reason: clean, clean+invalidate, eviction, snoop. */
export const CNT_DIRTY_WRITTEN_BACK = 3;
/** Dirty lines dropped by an invalidate: the CPU's data is lost. */
export const CNT_DIRTY_DISCARDED = 4;
/** Dirty lines written back by a clean or clean+invalidate (DC CVAC / DC CIVAC). */
export const CNT_LINES_CLEANED = 5;
/** Resident lines dropped by an invalidate or clean+invalidate (DC IVAC / DC CIVAC). */
export const CNT_LINES_INVALIDATED = 6;
/** DC line operations issued, one per line of every range operation, resident or not. */
export const CNT_MAINTENANCE_OPS = 7;
export const CNT_SPECULATIVE_FILLS = 8;
/** Coherent device accesses that found the line in the CPU cache. */
export const CNT_SNOOPS = 9;
/** Bytes moved by CPU memcpy between buffers (swiotlb bounces). */
export const CNT_CPU_COPY_BYTES = 10;
export const CNT_CPU_BYTES_READ = 11;
export const CNT_CPU_BYTES_WRITTEN = 12;
export const CNT_DEV_BYTES_READ = 13;
export const CNT_DEV_BYTES_WRITTEN = 14;
export const CNT_UNCACHED_BYTES = 15;
export const NR_COUNTERS = 16;
/** Bytes of the counter block (u64 each). */
export const COUNTERS_BYTES = 128;

/** A load knob's probability p crosses as the u32 threshold round(p * KNOB_ONE); 0 is off, KNOB_ONE is always. */
export const KNOB_ONE = 4294967295;

/**
 * A fingerprint of every constant above. Written so that it computes the same value as f64 in
 * AssemblyScript and as a JavaScript number: all intermediate values are integers below 2^53.
 */
export function abiFingerprint(): number {
  let h: number = 17;
  h = fold(h, ABI_VERSION);
  h = fold(h, LD_WAY_MASK);
  h = fold(h, LD_DIRTY);
  h = fold(h, MAX_WAYS);
  h = fold(h, EMPTY_TAG);
  h = fold(h, REPL_LRU);
  h = fold(h, REPL_RANDOM);
  h = fold(h, LINE_INVALID);
  h = fold(h, LINE_CLEAN);
  h = fold(h, LINE_DIRTY);
  h = fold(h, CNT_CACHE_HITS);
  h = fold(h, CNT_CACHE_MISSES);
  h = fold(h, CNT_EVICTIONS);
  h = fold(h, CNT_DIRTY_WRITTEN_BACK);
  h = fold(h, CNT_DIRTY_DISCARDED);
  h = fold(h, CNT_LINES_CLEANED);
  h = fold(h, CNT_LINES_INVALIDATED);
  h = fold(h, CNT_MAINTENANCE_OPS);
  h = fold(h, CNT_SPECULATIVE_FILLS);
  h = fold(h, CNT_SNOOPS);
  h = fold(h, CNT_CPU_COPY_BYTES);
  h = fold(h, CNT_CPU_BYTES_READ);
  h = fold(h, CNT_CPU_BYTES_WRITTEN);
  h = fold(h, CNT_DEV_BYTES_READ);
  h = fold(h, CNT_DEV_BYTES_WRITTEN);
  h = fold(h, CNT_UNCACHED_BYTES);
  h = fold(h, NR_COUNTERS);
  h = fold(h, COUNTERS_BYTES);
  h = fold(h, KNOB_ONE);
  return h;
}

function fold(h: number, v: number): number {
  return (h * 31 + v + 1000) % 1000000007;
}
