// The CPU data cache up to the Point of Coherency: a set-associative, write-back,
// write-allocate cache that holds real data, and the line operations the arm64 DMA hooks issue
// (arch/arm64/mm/cache.S: dcache_clean_poc = DC CVAC, dcache_inval_poc = DC IVAC, DC CIVAC).
//
// Regions (all offsets into the one shared memory, placed by src/layout.ts):
//
//   tags     u32 x lines   WASM line number of the RAM line held by each slot, or EMPTY_TAG
//   stamps   u64 x lines   LRU age of each slot (a global tick, never wraps in practice)
//   data     lineSize x lines, way-major: slot s = set * ways + way at
//            data + (way << wayShift) + (set << lineShift) (see slotAddr())
//   lineDir  u8 per line of RAM (see abi.ts): way + 1 and the dirty bit
//   counters u64 x NR_COUNTERS
//
// Slot s = set * ways + way; set = (line address >> lineShift) & setMask. The host lays RAM so
// that a line's WASM offset and its physical address agree modulo the way size, so sets are
// indexed by the physical address, as on hardware.
//
// Everything here trusts its arguments: the host validates every range before calling.

import {
  LD_WAY_MASK, LD_DIRTY, EMPTY_TAG, REPL_RANDOM, LINE_INVALID, LINE_CLEAN, LINE_DIRTY,
  CNT_CACHE_HITS, CNT_CACHE_MISSES, CNT_EVICTIONS, CNT_DIRTY_WRITTEN_BACK, CNT_DIRTY_DISCARDED,
  CNT_LINES_CLEANED, CNT_LINES_INVALIDATED, CNT_MAINTENANCE_OPS, CNT_SPECULATIVE_FILLS,
  CNT_CPU_BYTES_READ, CNT_CPU_BYTES_WRITTEN, CNT_SNOOPS,
} from './abi';

let tags: usize = 0;
let stamps: usize = 0;
let data: usize = 0;
let lineDir: usize = 0;
let counters: usize = 0;
let ramStart: usize = 0;
let ways: u32 = 1;
let setMask: u32 = 0;
/** log2(ways), and log2 of one way's bytes in the data array (sets << lineShift). */
let waysShift: u32 = 0;
let wayShift: u32 = 6;
let nSlots: u32 = 0;
let lineShift: u32 = 6;
let lineSize: usize = 64;
let pageShift: u32 = 12;
let replacement: i32 = 0;
let tick: u64 = 0;
let rng: u32 = 1;
let pressureThreshold: u32 = 0;
let speculationThreshold: u32 = 0;

/**
 * Binds the engine to the regions the host laid out, and empties the cache. The memory is new
 * (createMachine() makes one per machine, and a WebAssembly.Memory starts zeroed), so the LRU
 * stamps and the line directory are already 0: only the tags, whose empty value is all ones,
 * are written. Zeroing the others again would touch (and fault in) about 2 MiB per boot.
 * @returns 0
 */
export function init(
  tagsAt: usize, stampsAt: usize, dataAt: usize, lineDirAt: usize, countersAt: usize,
  ramStartAt: usize, sets: u32, nWays: u32, shift: u32, pgShift: u32,
  policy: i32, seed: u32,
): i32 {
  tags = tagsAt; stamps = stampsAt; data = dataAt; lineDir = lineDirAt; counters = countersAt;
  ramStart = ramStartAt; ways = nWays; setMask = sets - 1; nSlots = sets * nWays;
  lineShift = shift; lineSize = <usize>1 << shift; pageShift = pgShift; replacement = policy;
  waysShift = <u32>ctz(nWays); wayShift = <u32>ctz(sets) + shift;
  tick = 0;
  reseed(seed);
  memory.fill(tags, 0xff, <usize>nSlots << 2);
  return 0;
}

/** Restarts the random stream (replacement, pressure, speculation): same seed, same run. */
export function reseed(seed: u32): void {
  rng = seed != 0 ? seed : 0x9e3779b9;
}

/**
 * Load knobs, as u32 thresholds (abi.ts KNOB_ONE; 0 = off): on each cached CPU line access, a
 * random line is evicted with probability `pressure`, and a random line of the same page is
 * speculatively filled with probability `speculation`. Hardware prefetchers stop at page edges,
 * so speculation stays inside the page being touched.
 */
export function setLoad(pressure: u32, speculation: u32): void {
  pressureThreshold = pressure;
  speculationThreshold = speculation;
}

// ---- small helpers ------------------------------------------------------------------------

// @ts-ignore: decorator
@inline export function count(idx: i32, n: u64): void {
  const p = counters + (<usize>idx << 3);
  store<u64>(p, load<u64>(p) + n);
}

// @ts-ignore: decorator
@inline function nextRandom(): u32 {
  let x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return x;
}

// @ts-ignore: decorator
@inline export function dirIndex(line: usize): usize {
  return (line - ramStart) >> lineShift;
}

// @ts-ignore: decorator
@inline export function lineOf(index: usize): usize {
  return ramStart + (index << lineShift);
}

/**
 * Where slot s's bytes are. The data array is way-major, one block per way with its sets in
 * order, so the consecutive lines of a buffer that sit in the same way are consecutive in it
 * too, and copy out (a bounce, a snoop) as one run. Tags and stamps stay set-major.
 */
// @ts-ignore: decorator
@inline function slotAddr(slot: u32): usize {
  return data + (<usize>(slot & (ways - 1)) << wayShift) + (<usize>(slot >> waysShift) << lineShift);
}

/** slotAddr()'s inverse: the slot whose bytes start at `at`. */
// @ts-ignore: decorator
@inline function slotAt(at: usize): u32 {
  const off = at - data;
  return (<u32>((off & ((<usize>1 << wayShift) - 1)) >> lineShift) << waysShift) + <u32>(off >> wayShift);
}

// @ts-ignore: decorator
@inline export function slotData(line: usize, dirByte: u32): usize {
  return data + (<usize>((dirByte & LD_WAY_MASK) - 1) << wayShift) + (line & ((<usize>1 << wayShift) - 1));
}

/** The directory range [first, end) of the lines that [addr, addr + len) touches. */
// @ts-ignore: decorator
@inline export function firstIndex(addr: usize): usize {
  return dirIndex(addr);
}
// @ts-ignore: decorator
@inline export function endIndex(addr: usize, len: usize): usize {
  return dirIndex(addr + len - 1) + 1;
}

export function lineBytes(): usize {
  return lineSize;
}

/**
 * The next directory index in [i, e) whose byte has a `mask` bit set, or e (i itself if i >= e).
 * The byte at i is tested inline: in the dense ranges of a packet buffer it is usually the
 * answer, and the range's end costs no call either; the scan of the rest is out of line.
 */
// @ts-ignore: decorator
@inline export function nextMarked(i: usize, e: usize, mask: u32): usize {
  // The scan restarts at i, not i + 1: its 16-line steps then tile a range of whole 16-line
  // groups exactly, where starting one line later leaves 15 lines to the byte loop.
  return i >= e || (<u32>load<u8>(lineDir + i) & mask) != 0 ? i : scanMarked(i, e, mask);
}

/** nextMarked()'s scan: skips 16 lines per step with SIMD, as most lines of a range are usually not cached. */
function scanMarked(i: usize, e: usize, mask: u32): usize {
  if (ASC_FEATURE_SIMD) {
    const m = i8x16.splat(<i8>mask);
    while (i + 16 <= e && !v128.any_true(v128.and(v128.load(lineDir + i), m))) i += 16;
  }
  while (i < e && (<u32>load<u8>(lineDir + i) & mask) == 0) i++;
  return i;
}

/**
 * Copies one cache line. Lines are 16..256 bytes, a multiple of 16: inline v128 moves beat
 * memory.copy, whose fixed cost in V8 (about 3 ns) is a whole line's worth of time.
 */
// @ts-ignore: decorator
@inline function copyLine(dst: usize, src: usize): void {
  if (ASC_FEATURE_SIMD) {
    if (lineSize == 64) {
      // The usual line, unrolled: four loads, then four stores (the ranges never overlap).
      const a = v128.load(src);
      const b = v128.load(src, 16);
      const c = v128.load(src, 32);
      const d = v128.load(src, 48);
      v128.store(dst, a);
      v128.store(dst, b, 16);
      v128.store(dst, c, 32);
      v128.store(dst, d, 48);
    } else {
      for (let o: usize = 0; o < lineSize; o += 16) v128.store(dst + o, v128.load(src + o));
    }
  } else if (lineSize == 64) {
    for (let o: usize = 0; o < 64; o += 8) store<u64>(dst + o, load<u64>(src + o));
  } else {
    memory.copy(dst, src, lineSize);
  }
}

/**
 * Copies n bytes between ranges that do not overlap. A register-sized or line-sized move is
 * inlined (descriptor words, whole lines of a buffer); anything else is one memory.copy.
 */
// @ts-ignore: decorator
@inline export function copyBytes(dst: usize, src: usize, n: usize): void {
  if (n == lineSize) copyLine(dst, src);
  else if (n == 4) store<u32>(dst, load<u32>(src));
  else if (ASC_FEATURE_SIMD && n == 16) v128.store(dst, v128.load(src));
  else memory.copy(dst, src, n);
}

/** equalBytes(), with a whole 64-byte piece compared inline (a line of a packet buffer). */
// @ts-ignore: decorator
@inline export function equalPiece(a: usize, b: usize, n: usize): bool {
  if (ASC_FEATURE_SIMD && n == 64) {
    return !v128.any_true(v128.or(
      v128.or(v128.xor(v128.load(a), v128.load(b)), v128.xor(v128.load(a, 16), v128.load(b, 16))),
      v128.or(v128.xor(v128.load(a, 32), v128.load(b, 32)), v128.xor(v128.load(a, 48), v128.load(b, 48))),
    ));
  }
  return equalBytes(a, b, n);
}

/** Whether n bytes at a and b are equal (64 bytes a step with SIMD). */
export function equalBytes(a: usize, b: usize, n: usize): bool {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 64 <= n; i += 64) {
      const d = v128.or(
        v128.or(v128.xor(v128.load(a + i), v128.load(b + i)), v128.xor(v128.load(a + i, 16), v128.load(b + i, 16))),
        v128.or(v128.xor(v128.load(a + i, 32), v128.load(b + i, 32)), v128.xor(v128.load(a + i, 48), v128.load(b + i, 48))),
      );
      if (v128.any_true(d)) return false;
    }
    for (; i + 16 <= n; i += 16) if (v128.any_true(v128.xor(v128.load(a + i), v128.load(b + i)))) return false;
  }
  for (; i + 8 <= n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

// ---- slots --------------------------------------------------------------------------------

/** Pushes a slot's line out of the cache, writing it back first if it is dirty. */
function evictSlot(slot: u32): void {
  const tag = load<u32>(tags + (<usize>slot << 2));
  if (tag == <u32>EMPTY_TAG) return;
  const line = <usize>tag << lineShift;
  const di = lineDir + dirIndex(line);
  if (<u32>load<u8>(di) & LD_DIRTY) {
    copyLine(line, slotAddr(slot));
    count(CNT_DIRTY_WRITTEN_BACK, 1);
  }
  store<u8>(di, 0);
  store<u32>(tags + (<usize>slot << 2), <u32>EMPTY_TAG);
  count(CNT_EVICTIONS, 1);
}

/** Drops a resident line without writing it back. */
// @ts-ignore: decorator
@inline function dropLine(index: usize, dirByte: u32): void {
  const line = lineOf(index);
  const slot = (<u32>(line >> lineShift) & setMask) * ways + (dirByte & LD_WAY_MASK) - 1;
  store<u32>(tags + (<usize>slot << 2), <u32>EMPTY_TAG);
  store<u8>(lineDir + index, 0);
}

/** Picks the way to fill in a set: an empty way first, then the policy's victim. */
function victimWay(base: u32): u32 {
  if (ASC_FEATURE_SIMD && (ways & 3) == 0) {
    // The first empty way, four tags a step; only a full set needs the policy's scan below.
    const empty = i32x4.splat(EMPTY_TAG);
    for (let w: u32 = 0; w < ways; w += 4) {
      const hit = i32x4.bitmask(i32x4.eq(v128.load(tags + (<usize>(base + w) << 2)), empty));
      if (hit != 0) return w + ctz<u32>(hit);
    }
  }
  let best: u32 = 0;
  let oldest: u64 = U64.MAX_VALUE;
  for (let w: u32 = 0; w < ways; w++) {
    const slot = base + w;
    if (load<u32>(tags + (<usize>slot << 2)) == <u32>EMPTY_TAG) return w;
    const age = load<u64>(stamps + (<usize>slot << 3));
    if (age < oldest) { oldest = age; best = w; }
  }
  return replacement == REPL_RANDOM ? nextRandom() % ways : best;
}

/**
 * Allocates a slot for `line` in its set (first slot `base`) and fills it from RAM, evicting
 * the slot's line if it has one. Returns the slot; the caller stores its LRU stamp and the
 * line's directory byte.
 */
function fillSlot(line: usize, base: u32): u32 {
  const slot = base + victimWay(base);
  if (load<u32>(tags + (<usize>slot << 2)) != <u32>EMPTY_TAG) evictSlot(slot);
  copyLine(slotAddr(slot), line);
  store<u32>(tags + (<usize>slot << 2), <u32>(line >> lineShift));
  return slot;
}

/** Allocates a slot for `line` and fills it from RAM (a speculative fill). Returns the directory byte. */
function fill(line: usize): u32 {
  const base = (<u32>(line >> lineShift) & setMask) * ways;
  const slot = fillSlot(line, base);
  store<u64>(stamps + (<usize>slot << 3), ++tick);
  const dirByte = slot - base + 1;
  store<u8>(lineDir + dirIndex(line), <u8>dirByte);
  return dirByte;
}

/** What "under load" means: other work evicting lines and prefetchers filling them. */
function loadEffects(line: usize): void {
  if (pressureThreshold != 0 && nextRandom() <= pressureThreshold) {
    evictSlot(nextRandom() % nSlots);
  }
  if (speculationThreshold != 0 && nextRandom() <= speculationThreshold) {
    const page = line & ~((<usize>1 << pageShift) - 1);
    const target = page + ((<usize>(nextRandom() >> 8) & ((<usize>1 << (pageShift - lineShift)) - 1)) << lineShift);
    if ((<u32>load<u8>(lineDir + dirIndex(target)) & LD_WAY_MASK) == 0) {
      fill(target);
      count(CNT_SPECULATIVE_FILLS, 1);
    }
  }
}

/**
 * One cached CPU access to a line: hit, or miss and fill (write-allocate). Marks the line dirty
 * on a write. Returns the address of the line's data in the cache.
 *
 * A miss takes two ticks of the LRU clock, one for the fill and one for the access (a
 * speculative fill() takes one), and the slot keeps the second: one stamp store does both.
 */
// @ts-ignore: decorator
@inline function access(line: usize, write: bool): usize {
  if ((pressureThreshold | speculationThreshold) != 0) loadEffects(line);
  const di = lineDir + dirIndex(line);
  const dirByte = <u32>load<u8>(di);
  const base = (<u32>(line >> lineShift) & setMask) * ways;
  let slot: u32;
  let t = tick;
  if (dirByte & LD_WAY_MASK) {
    slot = base + (dirByte & LD_WAY_MASK) - 1;
    if (write) store<u8>(di, <u8>(dirByte | LD_DIRTY));
    count(CNT_CACHE_HITS, 1);
    t += 1;
  } else {
    slot = fillSlot(line, base);
    store<u8>(di, <u8>((slot - base + 1) | (write ? LD_DIRTY : 0)));
    count(CNT_CACHE_MISSES, 1);
    t += 2;
  }
  tick = t;
  store<u64>(stamps + (<usize>slot << 3), t);
  return slotAddr(slot);
}

// ---- CPU accesses -------------------------------------------------------------------------

/** CPU load of [addr, addr + len) through the cache into dst (a host scratch buffer). */
export function cpuRead(addr: usize, len: usize, dst: usize): void {
  const end = addr + len;
  while (addr < end) {
    const line = addr & ~(lineSize - 1);
    let n = line + lineSize - addr;
    if (n > end - addr) n = end - addr;
    copyBytes(dst, access(line, false) + (addr - line), n);
    addr += n;
    dst += n;
  }
  count(CNT_CPU_BYTES_READ, <u64>len);
}

/**
 * A CPU load of [addr, addr + len) through the cache, compared with `expected` instead of
 * copied out: the cache sees exactly what cpuRead() does to it (every line accessed, in order).
 */
export function cpuCompare(addr: usize, len: usize, expected: usize): bool {
  const end = addr + len;
  let eq = true;
  while (addr < end) {
    const line = addr & ~(lineSize - 1);
    let n = line + lineSize - addr;
    if (n > end - addr) n = end - addr;
    const at = access(line, false) + (addr - line);
    if (eq) eq = equalPiece(at, expected, n);
    addr += n;
    expected += n;
  }
  count(CNT_CPU_BYTES_READ, <u64>len);
  return eq;
}

/** CPU store of src[0, len) to [addr, addr + len) through the cache. */
export function cpuWrite(addr: usize, len: usize, src: usize): void {
  const end = addr + len;
  while (addr < end) {
    const line = addr & ~(lineSize - 1);
    let n = line + lineSize - addr;
    if (n > end - addr) n = end - addr;
    copyBytes(access(line, true) + (addr - line), src, n);
    addr += n;
    src += n;
  }
  count(CNT_CPU_BYTES_WRITTEN, <u64>len);
}

/**
 * cpuWrite() of [addr, addr + len) inside one line (the caller knows it is), without counting
 * the bytes: the caller adds CNT_CPU_BYTES_WRITTEN, as cpuWrite() does, once for many calls.
 */
// @ts-ignore: decorator
@inline export function cpuWriteInLine(addr: usize, len: usize, src: usize): void {
  const line = addr & ~(lineSize - 1);
  copyBytes(access(line, true) + (addr - line), src, len);
}

/** Whether [addr, addr + len) is inside one line (len >= 1). */
// @ts-ignore: decorator
@inline export function inOneLine(addr: usize, len: usize): bool {
  return (addr & (lineSize - 1)) + len <= lineSize;
}

/**
 * cpuWrite32x4()'s fast path for a descriptor in the line the previous one left resident and
 * dirty, with nothing in between (no load effects, no other access): the access is a hit on
 * the same slot, whose data starts at `lineData`, and the directory byte already says dirty.
 * Four ticks of the LRU clock, four hits, as cpuWrite32x4() counts them.
 */
// @ts-ignore: decorator
@inline export function cpuWrite32x4Again(lineData: usize, offset: usize, a: u32, b: u32, c: u32, d: u32): void {
  storeDescriptorHits(lineData + offset, a, b, c, d, 4);
}

/**
 * The four words of a descriptor stored at `at` (data of a resident slot), then `hits` ticks of
 * the LRU clock stamped on that slot and counted as hits, with the 16 bytes written.
 */
// @ts-ignore: decorator
@inline function storeDescriptorHits(at: usize, a: u32, b: u32, c: u32, d: u32, hits: u64): void {
  store<u32>(at, a);
  store<u32>(at, b, 4);
  store<u32>(at, c, 8);
  store<u32>(at, d, 12);
  const t = tick + hits;
  tick = t;
  store<u64>(stamps + (<usize>slotAt(at) << 3), t);
  count(CNT_CACHE_HITS, hits);
  count(CNT_CPU_BYTES_WRITTEN, 16);
}

/**
 * cpuRead32()'s fast path for an aligned word of a line known to be resident in the slot whose
 * data starts at `lineData`: a hit, one tick of the LRU clock.
 */
// @ts-ignore: decorator
@inline export function cpuRead32Again(lineData: usize, offset: usize): u32 {
  const t = tick + 1;
  tick = t;
  store<u64>(stamps + (<usize>slotAt(lineData) << 3), t);
  count(CNT_CACHE_HITS, 1);
  count(CNT_CPU_BYTES_READ, 4);
  return load<u32>(lineData + offset);
}

/**
 * Whether the line accessed last (the newest LRU stamp) stays resident through CPU accesses to
 * `lines` other lines and nothing else: under LRU a fill evicts an empty or the oldest way of
 * its set, and the newest line is the oldest of its set only once ways - 1 newer ones are there.
 * Random replacement may pick it at once.
 */
// @ts-ignore: decorator
@inline export function newestSurvives(lines: usize): bool {
  return replacement != REPL_RANDOM && lines < <usize>ways;
}

/** Whether the load knobs are off (no random eviction or speculation between accesses). */
// @ts-ignore: decorator
@inline export function noLoadEffects(): bool {
  return (pressureThreshold | speculationThreshold) == 0;
}

/** The data of the resident line holding addr (its directory byte has a way). */
// @ts-ignore: decorator
@inline export function residentData(addr: usize): usize {
  const line = addr & ~(lineSize - 1);
  return slotData(line, <u32>load<u8>(lineDir + dirIndex(line)));
}

/**
 * cpuWrite() of one 32-bit word (a descriptor field, a register-sized writel()), from a value
 * instead of a buffer. A word that is not 4-byte aligned may cross a line: it goes through the
 * byte path, via `tmp` (4 bytes of scratch).
 */
export function cpuWrite32(addr: usize, value: u32, tmp: usize): void {
  if (addr & 3) {
    store<u32>(tmp, value);
    cpuWrite(addr, 4, tmp);
    return;
  }
  const line = addr & ~(lineSize - 1);
  store<u32>(access(line, true) + (addr - line), value);
  count(CNT_CPU_BYTES_WRITTEN, 4);
}

/**
 * Four cpuWrite32()s in a row to the 16 bytes at addr (a descriptor: address lo, hi, length,
 * flags). Without load effects an aligned block is in one line, so the first access makes it
 * resident and the other three are hits on the same slot: done here as one access, three more
 * ticks of the LRU clock and three hits, which is what the four accesses leave behind.
 */
export function cpuWrite32x4(addr: usize, a: u32, b: u32, c: u32, d: u32, tmp: usize): void {
  if ((addr & 15) != 0 || (pressureThreshold | speculationThreshold) != 0) {
    cpuWrite32(addr, a, tmp);
    cpuWrite32(addr + 4, b, tmp);
    cpuWrite32(addr + 8, c, tmp);
    cpuWrite32(addr + 12, d, tmp);
    return;
  }
  const line = addr & ~(lineSize - 1);
  storeDescriptorHits(access(line, true) + (addr - line), a, b, c, d, 3);
}

/** cpuRead() of one 32-bit word, returned instead of copied out (`tmp` as in cpuWrite32()). */
export function cpuRead32(addr: usize, tmp: usize): u32 {
  if (addr & 3) {
    cpuRead(addr, 4, tmp);
    return load<u32>(tmp);
  }
  const line = addr & ~(lineSize - 1);
  const v = load<u32>(access(line, false) + (addr - line));
  count(CNT_CPU_BYTES_READ, 4);
  return v;
}

/** CPU memset of [addr, addr + len) through the cache. */
export function cpuFill(addr: usize, len: usize, value: u8): void {
  const end = addr + len;
  while (addr < end) {
    const line = addr & ~(lineSize - 1);
    let n = line + lineSize - addr;
    if (n > end - addr) n = end - addr;
    memory.fill(access(line, true) + (addr - line), value, n);
    addr += n;
  }
  count(CNT_CPU_BYTES_WRITTEN, <u64>len);
}

// ---- maintenance by range (DC CVAC / IVAC / CIVAC on every line of the range) --------------

/** Writes one dirty resident line back to RAM (the caller counts it and updates its state). */
// @ts-ignore: decorator
@inline function writeBack(index: usize, dirByte: u32): void {
  const line = lineOf(index);
  copyLine(line, slotData(line, dirByte));
}

/** dcache_clean_poc: dirty lines are written back and stay valid. Returns lines written back. */
export function clean(addr: usize, len: usize): u32 {
  if (len == 0) return 0;
  const e = endIndex(addr, len);
  let i = firstIndex(addr);
  count(CNT_MAINTENANCE_OPS, <u64>(e - i));
  let n: u32 = 0;
  for (i = nextMarked(i, e, LD_DIRTY); i < e; i = nextMarked(i + 1, e, LD_DIRTY)) {
    const dirByte = <u32>load<u8>(lineDir + i);
    writeBack(i, dirByte);
    store<u8>(lineDir + i, <u8>(dirByte & ~LD_DIRTY));
    n++;
  }
  count(CNT_LINES_CLEANED, <u64>n);
  count(CNT_DIRTY_WRITTEN_BACK, <u64>n);
  return n;
}

/** dcache_inval_poc's DC IVAC: resident lines are dropped, dirty data with them. Returns lines dropped. */
export function invalidate(addr: usize, len: usize): u32 {
  if (len == 0) return 0;
  const e = endIndex(addr, len);
  let i = firstIndex(addr);
  count(CNT_MAINTENANCE_OPS, <u64>(e - i));
  let n: u32 = 0;
  let lost: u32 = 0;
  for (i = nextMarked(i, e, LD_WAY_MASK); i < e; i = nextMarked(i + 1, e, LD_WAY_MASK)) {
    const dirByte = <u32>load<u8>(lineDir + i);
    if (dirByte & LD_DIRTY) lost++;
    dropLine(i, dirByte);
    n++;
  }
  count(CNT_DIRTY_DISCARDED, <u64>lost);
  count(CNT_LINES_INVALIDATED, <u64>n);
  return n;
}

/** DC CIVAC: dirty lines are written back, then every resident line is dropped. Returns lines dropped. */
export function cleanInvalidate(addr: usize, len: usize): u32 {
  if (len == 0) return 0;
  const e = endIndex(addr, len);
  let i = firstIndex(addr);
  count(CNT_MAINTENANCE_OPS, <u64>(e - i));
  let n: u32 = 0;
  let cleaned: u32 = 0;
  for (i = nextMarked(i, e, LD_WAY_MASK); i < e; i = nextMarked(i + 1, e, LD_WAY_MASK)) {
    const dirByte = <u32>load<u8>(lineDir + i);
    if (dirByte & LD_DIRTY) {
      writeBack(i, dirByte);
      cleaned++;
    }
    dropLine(i, dirByte);
    n++;
  }
  count(CNT_LINES_CLEANED, <u64>cleaned);
  count(CNT_DIRTY_WRITTEN_BACK, <u64>cleaned);
  count(CNT_LINES_INVALIDATED, <u64>n);
  return n;
}

/**
 * dcache_inval_poc()'s line walk (arch/arm64/mm/cache.S) in one pass: a line the range covers
 * only partly at either end is cleaned and invalidated (DC CIVAC), so bytes that are not the
 * buffer's survive; every other line is invalidated (DC IVAC). The DC count is the kernel's:
 * one for an unaligned end line, one for the start line (the loop tests its bound after the
 * first DC), one for each line in between.
 */
export function invalPoc(addr: usize, len: usize): void {
  const mask = lineSize - 1;
  const end = addr + len;
  const startIdx = firstIndex(addr);
  const endIdx = dirIndex(end & ~mask);
  const partialEnd = (end & mask) != 0;
  const partialStart = (addr & mask) != 0;
  const lastIdx = partialEnd ? endIdx : (endIdx > startIdx ? endIdx - 1 : startIdx);
  const inner = endIdx > startIdx + 1 ? endIdx - startIdx - 1 : 0;
  count(CNT_MAINTENANCE_OPS, <u64>((partialEnd ? 1 : 0) + 1 + inner));
  let dropped: u32 = 0;
  let cleaned: u32 = 0;
  let lost: u32 = 0;
  const e = lastIdx + 1;
  for (let i = nextMarked(startIdx, e, LD_WAY_MASK); i < e; i = nextMarked(i + 1, e, LD_WAY_MASK)) {
    const dirByte = <u32>load<u8>(lineDir + i);
    const edge = (i == startIdx && partialStart) || (i == endIdx && partialEnd);
    if (dirByte & LD_DIRTY) {
      if (edge) {
        writeBack(i, dirByte);
        cleaned++;
      } else {
        lost++;
      }
    }
    dropLine(i, dirByte);
    dropped++;
  }
  count(CNT_LINES_CLEANED, <u64>cleaned);
  count(CNT_DIRTY_WRITTEN_BACK, <u64>cleaned);
  count(CNT_DIRTY_DISCARDED, <u64>lost);
  count(CNT_LINES_INVALIDATED, <u64>dropped);
}

/** The directory byte of the line holding addr (abi.ts: way + 1 and the dirty bit). */
// @ts-ignore: decorator
@inline export function dirByteAt(addr: usize): u32 {
  return <u32>load<u8>(lineDir + dirIndex(addr));
}

/** LINE_INVALID, LINE_CLEAN or LINE_DIRTY for the line holding addr. */
export function lineState(addr: usize): i32 {
  const dirByte = <u32>load<u8>(lineDir + dirIndex(addr));
  if ((dirByte & LD_WAY_MASK) == 0) return LINE_INVALID;
  return dirByte & LD_DIRTY ? LINE_DIRTY : LINE_CLEAN;
}

// ---- coherent views, shared by the bus (snooping devices) and CPU copies -------------------

/**
 * Overlays the cached lines of [addr, addr + len) whose directory byte has a `mask` bit onto
 * dst, which already holds the RAM contents of that range. With LD_DIRTY this is what a
 * snooping device sees; with LD_WAY_MASK it is what the CPU itself sees, a stale clean line
 * included.
 */
export function overlay(addr: usize, len: usize, dst: usize, mask: u32): void {
  if (len == 0) return;
  const end = addr + len;
  const e = endIndex(addr, len);
  let n: u32 = 0;
  for (let i = nextMarked(firstIndex(addr), e, mask); i < e; i = nextMarked(i + 1, e, mask)) {
    const line = lineOf(i);
    const src = slotData(line, <u32>load<u8>(lineDir + i));
    if (line >= addr && line + lineSize <= end) {
      copyLine(dst + (line - addr), src);
    } else {
      const lo = line > addr ? line : addr;
      const hi = line + lineSize < end ? line + lineSize : end;
      copyBytes(dst + (lo - addr), src + (lo - line), hi - lo);
    }
    n++;
  }
  count(CNT_SNOOPS, <u64>n);
}

/**
 * dst receives [src, src + n) as the CPU reads it, in one pass: each run of lines the cache does
 * not hold is one memory.copy from RAM, and each run of lines resident in one way (clean, stale
 * or dirty) is one copy from the data array, where they lie side by side until the set index
 * wraps. The same bytes and the same snoop count as a memory.copy of the whole range followed by
 * overlay(src, n, dst, LD_WAY_MASK), without reading a resident line twice.
 */
export function copyThroughCache(dst: usize, src: usize, n: usize): void {
  if (n == 0) return;
  const end = src + n;
  const e = endIndex(src, n);
  const wayBytes = <usize>1 << wayShift;
  let at = src;
  let resident: u32 = 0;
  for (let i = nextMarked(firstIndex(src), e, LD_WAY_MASK); i < e; i = nextMarked(i, e, LD_WAY_MASK)) {
    const line = lineOf(i);
    const way = <u32>load<u8>(lineDir + i) & LD_WAY_MASK;
    const wraps = i + ((wayBytes - (line & (wayBytes - 1))) >> lineShift);
    const limit = wraps < e ? wraps : e;
    let j = i + 1;
    if (ASC_FEATURE_SIMD) {
      const m = i8x16.splat(<i8>LD_WAY_MASK);
      const w = i8x16.splat(<i8>way);
      while (j + 16 <= limit && i8x16.all_true(i8x16.eq(v128.and(v128.load(lineDir + j), m), w))) j += 16;
    }
    while (j < limit && (<u32>load<u8>(lineDir + j) & LD_WAY_MASK) == way) j++;
    const lo = line > src ? line : src;
    const runEnd = lineOf(j);
    const hi = runEnd < end ? runEnd : end;
    if (lo > at) memory.copy(dst + (at - src), at, lo - at);
    copyBytes(dst + (lo - src), slotData(line, way) + (lo - line), hi - lo);
    resident += <u32>(j - i);
    at = hi;
    i = j;
  }
  if (end > at) memory.copy(dst + (at - src), at, end - at);
  count(CNT_SNOOPS, <u64>resident);
}

/**
 * Where a snooping device reads the bytes at addr, up to the end of their line: the cached
 * line's data when the line is dirty in the CPU cache (counted as a snoop, as overlay() counts
 * it), or RAM. overlay(addr, len, .., LD_DIRTY) for a range inside one line, without the copy.
 */
// @ts-ignore: decorator
@inline export function snoopedSource(addr: usize): usize {
  const line = addr & ~(lineSize - 1);
  const dirByte = <u32>load<u8>(lineDir + dirIndex(line));
  if ((dirByte & LD_DIRTY) == 0) return addr;
  count(CNT_SNOOPS, 1);
  return slotData(line, dirByte) + (addr - line);
}

/**
 * Whether a snooping device reads `expected` at [addr, addr + len): overlay(.., LD_DIRTY) and a
 * compare, line by line, without copying the range out first. Counts a snoop for every dirty
 * line of the range, as overlay() does, whatever the compare finds.
 */
export function snoopCompare(addr: usize, len: usize, expected: usize): bool {
  const end = addr + len;
  let eq = true;
  while (addr < end) {
    const line = addr & ~(lineSize - 1);
    let n = line + lineSize - addr;
    if (n > end - addr) n = end - addr;
    const src = snoopedSource(addr);
    if (eq) eq = equalPiece(src, expected, n);
    addr += n;
    expected += n;
  }
  return eq;
}

/**
 * snoopInvalidate() of a range inside one line (the caller knows it is, and len >= 1), its
 * counts returned instead of added, for the caller to sum: 1 for a snoop (the line was
 * resident), plus 1 << 32 when it was written back.
 */
// @ts-ignore: decorator
@inline export function snoopInvalidateInLine(addr: usize, len: usize): u64 {
  const line = addr & ~(lineSize - 1);
  const i = dirIndex(line);
  const dirByte = <u32>load<u8>(lineDir + i);
  if ((dirByte & LD_WAY_MASK) == 0) return 0;
  let r: u64 = 1;
  if ((dirByte & LD_DIRTY) != 0 && (line < addr || len < lineSize)) {
    writeBack(i, dirByte);
    r = 0x1_0000_0001;
  }
  dropLine(i, dirByte);
  return r;
}

/**
 * Makes [addr, addr + len) safe to overwrite in RAM by a coherent agent: resident lines are
 * dropped, and a dirty line the write covers only partly is written back first so that its other
 * bytes survive. Lines the write covers entirely lose nothing: the write replaces them.
 */
export function snoopInvalidate(addr: usize, len: usize): void {
  if (len == 0) return;
  const end = addr + len;
  const e = endIndex(addr, len);
  let snooped: u32 = 0;
  let written: u32 = 0;
  for (let i = nextMarked(firstIndex(addr), e, LD_WAY_MASK); i < e; i = nextMarked(i + 1, e, LD_WAY_MASK)) {
    const line = lineOf(i);
    const dirByte = <u32>load<u8>(lineDir + i);
    if ((dirByte & LD_DIRTY) && (line < addr || line + lineSize > end)) {
      writeBack(i, dirByte);
      written++;
    }
    dropLine(i, dirByte);
    snooped++;
  }
  count(CNT_SNOOPS, <u64>snooped);
  count(CNT_DIRTY_WRITTEN_BACK, <u64>written);
}
