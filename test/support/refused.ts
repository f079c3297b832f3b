// "Input no kernel could receive throws a typed DmaSimError naming the function the user called
// and the argument, and changes nothing": the check shared by the bad-input tests and the fuzz
// test. A snapshot holds the machine's counters, log, allocators, swiotlb, dma-debug and the
// data-aware checker's state, and a sample of the bytes of RAM and of the cache.
import { expect } from 'vitest';
import { DmaCoreFault, DmaSimError, type Machine } from '../../src/index.js';

const DMA_API = '/sys/kernel/debug/dma-api';
/** Windows of WINDOW bytes compared, spread over RAM and over the cache's data (a byte-by-byte
 * walk of a SharedArrayBuffer view costs far more than copying windows of it). */
const WINDOW = 64;
const RAM_WINDOWS = 512;
const CACHE_WINDOWS = 256;

export interface Snapshot {
  readonly text: string;
  readonly ram: Uint8Array;
  readonly cache: Uint8Array;
}

function sample(m: Machine, start: number, len: number, windows: number): Uint8Array {
  const n = Math.min(windows, Math.floor(len / WINDOW));
  const stride = Math.floor(len / n);
  const out = new Uint8Array(n * WINDOW);
  const u8 = m.u8;
  // Each window starts at a different offset within its line (7 is prime to the line sizes).
  for (let i = 0; i < n; i++) {
    const at = start + i * stride + ((i * 7) % Math.max(1, stride - WINDOW));
    out.set(u8.subarray(at, at + WINDOW), i * WINDOW);
  }
  return out;
}

/** The log's length and its last lines (it only grows: a new line shows in both). */
function logTail(m: Machine): string[] {
  const log = m.dmesg();
  return [String(log.length), ...log.slice(-3)];
}

export function snapshot(m: Machine): Snapshot {
  const debug = m.dmaDebug !== null && m.config.DMA_API_DEBUG
    ? ['num_free_entries', 'error_count'].map((f) => m.debugfs.read(`${DMA_API}/${f}`)).join(',') : '';
  const state = {
    stats: m.stats(),
    log: logTail(m),
    free: m.pages.zones().map((z) => m.pages.nrFree(z.id as 0 | 1 | 2)),
    slab: m.slab.liveObjects,
    vmalloc: m.vm.areas().length,
    swiotlb: m.swiotlb?.totalUsed ?? -1,
    debug,
    dataCheck: m.dataCheck === null ? -1 : [m.dataCheck.liveRegions, m.dataCheck.reports.length],
    storeBuffer: m.cpu.pendingStores,
  };
  const { cacheData, cacheBytes, ramStart, ramSpan } = m.layout;
  return { text: JSON.stringify(state), ram: sample(m, ramStart, ramSpan, RAM_WINDOWS), cache: sample(m, cacheData, cacheBytes, CACHE_WINDOWS) };
}

/** Whether the machine is as it was when `s` was taken (the first difference, or null). */
export function changedSince(m: Machine, s: Snapshot): string | null {
  const now = snapshot(m);
  if (now.text !== s.text) return `state: ${s.text} -> ${now.text}`;
  if (Buffer.compare(now.ram, s.ram) !== 0) return 'RAM bytes changed';
  if (Buffer.compare(now.cache, s.cache) !== 0) return 'cache bytes changed';
  return null;
}

/**
 * Runs `f`, expects a DmaSimError of class `cls` whose message starts with `fn` and names
 * `arg`, and checks that nothing changed.
 */
export function refused(m: Machine, f: () => unknown, fn: string, arg: string, cls: { [Symbol.hasInstance](x: unknown): boolean } = DmaSimError): void {
  m.ndelay(0); // events already due run at any interleaving point, refused call or not
  const before = snapshot(m);
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `${fn}(${arg}) was accepted`).toBeInstanceOf(cls);
  expect(err).not.toBeInstanceOf(DmaCoreFault);
  expect((err as Error).message.startsWith(`${fn}: `), (err as Error).message).toBe(true);
  expect((err as Error).message).toContain(arg);
  expect(changedSince(m, before)).toBeNull();
}
