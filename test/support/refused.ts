// "Input no kernel could receive throws a typed DmaSimError naming the function the user called
// and the argument, and changes nothing": the check shared by the bad-input tests and the fuzz
// test. A snapshot holds the machine's counters, log, allocators, swiotlb, dma-debug and the
// data-aware checker's state, a sample of RAM and the whole cache.
import { expect } from 'vitest';
import { DmaCoreFault, DmaSimError, type Machine } from '../../src/index.js';

const DMA_API = '/sys/kernel/debug/dma-api';
/** Bytes of RAM compared: one every RAM_STRIDE (a prime, so the sample walks every line offset). */
const RAM_STRIDE = 4099;

export interface Snapshot {
  readonly text: string;
  readonly ram: Uint8Array;
  readonly cache: Uint8Array;
}

function ramSample(m: Machine): Uint8Array {
  const { ramStart, ramSpan } = m.layout;
  const out = new Uint8Array(Math.ceil(ramSpan / RAM_STRIDE));
  for (let i = 0, at = ramStart; i < out.length; i++, at += RAM_STRIDE) out[i] = m.u8[at] as number;
  return out;
}

export function snapshot(m: Machine): Snapshot {
  const debug = m.dmaDebug !== null && m.config.DMA_API_DEBUG
    ? ['num_free_entries', 'error_count'].map((f) => m.debugfs.read(`${DMA_API}/${f}`)).join(',') : '';
  const state = {
    stats: m.stats(),
    log: m.dmesg(),
    free: m.pages.zones().map((z) => m.pages.nrFree(z.id as 0 | 1 | 2)),
    slab: m.slab.liveObjects,
    vmalloc: m.vm.areas().length,
    swiotlb: m.swiotlb?.totalUsed ?? -1,
    debug,
    dataCheck: m.dataCheck === null ? -1 : [m.dataCheck.liveRegions, m.dataCheck.reports.length],
    storeBuffer: m.cpu.pendingStores,
  };
  const { cacheData, cacheBytes } = m.layout;
  return { text: JSON.stringify(state), ram: ramSample(m), cache: m.u8.slice(cacheData, cacheData + cacheBytes) };
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
