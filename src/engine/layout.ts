// Where everything lives in the one shared WebAssembly.Memory. Computed once per machine and
// handed to the engine's init(); nothing else in the host computes an offset.
//
//   0x00000 +--------------------------+
//           | engine static area       |  unused: the engine has no static data
//   0x10000 +--------------------------+
//           | counters (u64 x 16)      |
//   0x11000 +--------------------------+
//           | scratch (64 KiB)         |  host <-> engine transfers (cpu.read, dmaWrite, ...)
//           +--------------------------+
//           | cache tags  (u32/slot)   |
//           | cache stamps (u64/slot)  |
//           | cache data  (line/slot)  |
//           +--------------------------+
//           | RAM bank 0 window        |  offset = phys - base + window start; each window is
//           |   (padding)              |  placed so that offset == phys modulo the way size,
//           | RAM bank 1 window        |  which makes the engine's set index a physical one
//           +--------------------------+
//           | line directory (u8/line) |  one byte per line from the first window to the last
//           +--------------------------+
//           | ring area (216 KiB)      |  the batched entry points' tables, payload pattern and
//           +--------------------------+  results (assembly/ring.ts); touches no RAM or cache

import { PAGE_SIZE } from '../include/page.js';

export const WASM_PAGE = 65536;
/** A 32-bit WebAssembly memory holds at most 65536 pages of 64 KiB. */
export const MAX_WASM_PAGES = 65536;
const COUNTERS_AT = 0x10000;
const SCRATCH_AT = 0x11000;
export const SCRATCH_BYTES = 0x10000;
/** Bytes of the work area of the batched ring-step entry points (assembly/ring.ts). */
export const RING_AREA_BYTES = 0x36000;

export interface BankSpec {
  readonly base: number;
  readonly size: number;
}

export interface CacheGeometry {
  readonly size: number;
  readonly ways: number;
  readonly lineSize: number;
}

/** A memblock bank and the window of WASM memory that holds its bytes. */
export interface BankWindow extends BankSpec {
  /** WASM offset of the bank's first byte. */
  readonly offset: number;
}

export interface Layout {
  readonly counters: number;
  readonly scratch: number;
  readonly tags: number;
  readonly stamps: number;
  readonly cacheData: number;
  readonly cacheBytes: number;
  readonly slots: number;
  readonly sets: number;
  readonly banks: readonly BankWindow[];
  /** First byte of the first window; the line directory covers [ramStart, ramStart + ramSpan). */
  readonly ramStart: number;
  readonly ramSpan: number;
  readonly lineDir: number;
  /** The batched entry points' work area, RING_AREA_BYTES long. */
  readonly ringArea: number;
  readonly totalBytes: number;
  readonly pages: number;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** The smallest offset >= at that is congruent to `phys` modulo `period` (a power of two). */
function congruentAtOrAbove(at: number, phys: number, period: number): number {
  const want = phys % period;
  const base = at - (at % period) + want;
  return base >= at ? base : base + period;
}

/** Lays out a machine. Banks must be validated (sorted, page-aligned, disjoint) by the caller. */
export function computeLayout(banks: readonly BankSpec[], cache: CacheGeometry): Layout {
  const slots = cache.size / cache.lineSize;
  const sets = slots / cache.ways;
  const period = Math.max(sets * cache.lineSize, PAGE_SIZE);
  const tags = SCRATCH_AT + SCRATCH_BYTES;
  const stamps = alignUp(tags + slots * 4, 8);
  const cacheData = alignUp(stamps + slots * 8, cache.lineSize);
  let at = cacheData + cache.size;
  const windows: BankWindow[] = [];
  for (const b of banks) {
    const offset = congruentAtOrAbove(at, b.base, period);
    windows.push({ base: b.base, size: b.size, offset });
    at = offset + b.size;
  }
  const ramStart = windows[0]?.offset ?? at;
  const ramSpan = at - ramStart;
  const lineDir = at;
  const ringArea = alignUp(lineDir + ramSpan / cache.lineSize, 64);
  const totalBytes = ringArea + RING_AREA_BYTES;
  return {
    counters: COUNTERS_AT, scratch: SCRATCH_AT, tags, stamps, cacheData, cacheBytes: cache.size, slots, sets,
    banks: windows, ramStart, ramSpan, lineDir, ringArea, totalBytes, pages: Math.ceil(totalBytes / WASM_PAGE),
  };
}

/** Bytes that are neither RAM nor cache data (tags, directory, scratch, padding): the price of the simulation. */
export function metadataBytes(l: Layout): number {
  const ram = l.banks.reduce((s, b) => s + b.size, 0);
  return l.totalBytes - ram - l.cacheBytes;
}
