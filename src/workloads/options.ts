// The workloads' options, checked in one place for every caller: the exported run functions and
// the dmasim command line. Each check names the function it runs for (`fn`: runNic, or the CLI's
// own name) and the option, and throws before the machine is touched. An option passed as
// undefined (an absent CLI flag) keeps its default.

import { DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';
import { checkBool, checkIntIn, checkOptions } from '../lib/validate.js';
import { Machine } from '../machine.js';

/** The machine a workload runs on. */
export function checkMachine(fn: string, m: unknown): Machine {
  if (!(m instanceof Machine)) throw new DmaSimTypeError(fn, 'm', 'must be a machine from createMachine()');
  return m;
}

/** The defaults and limits of the NIC workload (nic.ts). */
export const NIC_LIMITS = {
  packetSize: [60, 9000],
  ringSize: [2, 4096],
  packets: [1, 1e9],
  /** A PCI device addresses at least 32 bits (and the machine's RAM starts above 16 MiB). */
  dmaBits: [32, 64],
  burst: [1, 4096],
} as const;

const NIC_MODES = ['map', 'recycle'] as const;
const NIC_DESCRIPTORS = ['coherent', 'pool'] as const;
const NIC_BUGS = ['none', 'no-sync-for-cpu', 'no-sync-for-device', 'no-dma-wmb'] as const;
const NIC_APIS = ['batched', 'per-call', 'model'] as const;
const NIC_KEYS = ['packetSize', 'ringSize', 'packets', 'mode', 'descriptors', 'dmaBits', 'coherent', 'iommu', 'bug', 'burst', 'api', 'onProgress'];

/** The given options without those passed as undefined. */
function given(fn: string, opts: unknown, known: readonly string[]): Record<string, unknown> {
  const o = checkOptions(fn, 'options', opts, known);
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function oneOf<T extends string>(fn: string, arg: string, v: unknown, choices: readonly T[]): T {
  if (typeof v !== 'string') throw new DmaSimTypeError(fn, arg, `must be one of ${choices.join(', ')}, got ${typeof v}`);
  if (!(choices as readonly string[]).includes(v)) throw new DmaSimRangeError(fn, arg, `must be one of ${choices.join(', ')}, got ${v}`);
  return v as T;
}

function callback(fn: string, arg: string, v: unknown): ((fraction: number) => void) | undefined {
  if (v === undefined || typeof v === 'function') return v as ((fraction: number) => void) | undefined;
  throw new DmaSimTypeError(fn, arg, `must be a function, got ${typeof v}`);
}

function int(fn: string, arg: string, v: unknown, [lo, hi]: readonly [number, number]): number {
  return checkIntIn(fn, arg, v, lo, hi);
}

/** The NIC workload's options over `defaults`, checked. */
export function checkNicOptions<T extends object>(fn: string, opts: unknown, defaults: T): T {
  const o = { ...defaults, ...given(fn, opts, NIC_KEYS) } as Record<string, unknown>;
  int(fn, 'packetSize', o.packetSize, NIC_LIMITS.packetSize);
  int(fn, 'ringSize', o.ringSize, NIC_LIMITS.ringSize);
  int(fn, 'packets', o.packets, NIC_LIMITS.packets);
  int(fn, 'dmaBits', o.dmaBits, NIC_LIMITS.dmaBits);
  int(fn, 'burst', o.burst, NIC_LIMITS.burst);
  oneOf(fn, 'mode', o.mode, NIC_MODES);
  oneOf(fn, 'descriptors', o.descriptors, NIC_DESCRIPTORS);
  oneOf(fn, 'bug', o.bug, NIC_BUGS);
  oneOf(fn, 'api', o.api, NIC_APIS);
  if (o.coherent !== undefined) checkBool(fn, 'coherent', o.coherent);
  if (o.iommu !== undefined) checkBool(fn, 'iommu', o.iommu);
  callback(fn, 'onProgress', o.onProgress);
  return o as T;
}

/** The demo's options: an arch and a seed, both required (the CLI hands its whole flag set). */
export function checkDemoOptions(fn: string, opts: unknown): { arch: 'arm64' | 'x86_64'; seed: number } {
  if (typeof opts !== 'object' || opts === null) throw new DmaSimTypeError(fn, 'options', 'must be an object { arch, seed }');
  const o = opts as Record<string, unknown>;
  return { arch: oneOf(fn, 'arch', o.arch, ['arm64', 'x86_64'] as const), seed: checkIntIn(fn, 'seed', o.seed, 0, 0xffff_ffff) };
}

/** Rounds per parameter set of dmapool_test: NR_TESTS is 100; more than 1000 is no test but a hang. */
export const DMAPOOL_TEST_MAX_ITERATIONS = 1000;

export function checkDmapoolTestOptions(fn: string, opts: unknown, defaultIterations: number): { iterations: number; onProgress?: (fraction: number) => void } {
  const o = given(fn, opts, ['iterations', 'onProgress']);
  const iterations = checkIntIn(fn, 'iterations', o.iterations ?? defaultIterations, 1, DMAPOOL_TEST_MAX_ITERATIONS);
  const onProgress = callback(fn, 'onProgress', o.onProgress);
  return onProgress === undefined ? { iterations } : { iterations, onProgress };
}

/** A non-empty list of positive integers up to `hi`. */
function intList(fn: string, arg: string, v: unknown, hi: number): readonly number[] {
  if (!Array.isArray(v)) throw new DmaSimTypeError(fn, arg, 'must be a list of positive integers');
  if (v.length === 0) throw new DmaSimRangeError(fn, arg, 'must not be empty');
  v.forEach((x, i) => checkIntIn(fn, `${arg}[${i}]`, x, 1, hi));
  return v as readonly number[];
}

const BARRIER_KEYS = ['entries', 'entrySizes', 'dir', 'op', 'arch', 'seed', 'repetitions', 'onProgress'];

/** The barrier sweep's options over `defaults`, checked: `ops` are its timed calls. */
export function checkBarrierSweepOptions<T extends object>(fn: string, opts: unknown, defaults: T, ops: readonly string[]): T {
  const o = { ...defaults, ...given(fn, opts, BARRIER_KEYS) } as Record<string, unknown>;
  intList(fn, 'entries', o.entries, 1 << 16);
  intList(fn, 'entrySizes', o.entrySizes, 1 << 22);
  checkIntIn(fn, 'dir', o.dir, 0, 2);
  oneOf(fn, 'op', o.op, ops);
  if (o.arch !== undefined) oneOf(fn, 'arch', o.arch, ['arm64']);
  if (o.seed !== undefined) checkIntIn(fn, 'seed', o.seed, 0, 0xffff_ffff);
  if (o.repetitions !== undefined) checkIntIn(fn, 'repetitions', o.repetitions, 1, 1e6);
  callback(fn, 'onProgress', o.onProgress);
  return o as T;
}
