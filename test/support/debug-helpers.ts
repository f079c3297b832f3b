// Fixtures for the dma-debug and data-checker tests (test/debug-*.test.ts, test/datacheck-*.test.ts):
// a machine with CONFIG_DMA_API_DEBUG and a probed device, and exact matching of WARN reports.
import { expect } from 'vitest';
import { createMachine, type Machine, type MachineOptions } from '../../src/machine.js';
import type { Device, DeviceOptions } from '../../src/dma/device.js';
import type { DmaDebug } from '../../src/dma/debug.js';
import { probe64 } from './api-helpers.js';
import { END_TRACE } from './warn.js';

export const DMA_API = '/sys/kernel/debug/dma-api';
export const CUT = '------------[ cut here ]------------';

export interface Rig {
  m: Machine;
  dev: Device;
  dbg: DmaDebug;
  /** The log lines since the rig was made (or since the last `mark()`). */
  log(): string[];
  mark(): void;
}

/** An arm64 machine with CONFIG_DMA_API_DEBUG and a device probed with a 64-bit mask. */
export async function rig(opts: MachineOptions = {}, dev: Partial<DeviceOptions> = {}): Promise<Rig> {
  const m = await createMachine({ ...opts, config: { DMA_API_DEBUG: true, ...opts.config } });
  const d = probe64(m, { name: '0000:01:00.0', driver: 'mynic', ...dev });
  let from = m.dmesg().length;
  const dbg = m.dmaDebugState;
  if (dbg === null) throw new Error('no dma-debug state');
  return { m, dev: d, dbg, log: () => m.dmesg().slice(from), mark: () => { from = m.dmesg().length; } };
}

/** Every error printed, not just the first (all_errors). */
export function allErrors(m: Machine): void {
  m.debugfs.write(`${DMA_API}/all_errors`, '1');
}

/**
 * The WARN report of err_printk(): the banner, "DMA-API: <driver> <device>: <msg>" (each line of
 * a multi-line message), the WARNING line `banner` (see warn.ts), the end-trace line,
 * then "Mapped at:" and its frames when the error concerns an entry (`frames`), or nothing.
 */
export function expectWarn(log: readonly string[], prefix: string, msg: string, banner: string, frames?: readonly string[]): void {
  const text = msg.replace(/\n$/, '').split('\n');
  const first = `${prefix}: ${text[0]}`;
  const i = log.indexOf(first);
  expect(log, `no line ${JSON.stringify(first)}`).toContain(first);
  expect(log[i - 1]).toBe(CUT);
  for (let k = 1; k < text.length; k++) expect(log[i + k]).toBe(text[k]);
  const j = i + text.length;
  expect(log[j]).toBe(banner);
  expect(log[j + 1]).toBe(END_TRACE);
  if (frames === undefined) {
    expect(log[j + 2]).not.toBe('DMA-API: Mapped at:');
  } else {
    expect(log.slice(j + 2, j + 3 + frames.length)).toEqual(['DMA-API: Mapped at:', ...frames.map((f) => ` ${f}`)]);
  }
}

/** The message lines of every dma-debug WARN in `log` (the line after each banner). */
export function warnings(log: readonly string[]): string[] {
  return log.flatMap((l, i) => (l === CUT && (log[i + 1] ?? '').startsWith('DMA-API: ') ? [log[i + 1] as string] : []));
}

export const SINGLE_FRAMES = ['debug_dma_map_phys', 'dma_map_phys', 'dma_map_page_attrs', 'dma_map_single'];

/** %016llx */
export function x016(v: number): string {
  return v.toString(16).padStart(16, '0');
}
