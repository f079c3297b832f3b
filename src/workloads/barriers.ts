// `dmasim barriers`: batched versus per-buffer DSBs over scatterlists of varying length and entry
// size, after the measurement of the arm64 batched cache sync series (KERNEL.md §7.4), which
// timed dma_map_sg()/dma_unmap_sg() of 2,560 × 4 KiB entries with and without
// ARCH_HAS_BATCHED_DMA_SYNC. Two machines that differ only in that option run the same calls on
// the same buffers, so every difference in the counters is the barriers' doing; model time (the
// cost model's ns) is the figure comparable with the kernel's, wall time is what the host spent.

import type { Device } from '../dma/device.js';
import {
  DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dir2name,
} from '../include/dma-mapping.js';
import { createMachine, type Machine, type Stats } from '../machine.js';
import {
  dma_map_sg, dma_set_mask_and_coherent, dma_sync_sg_for_cpu, dma_sync_sg_for_device, dma_unmap_sg,
} from '../dma/mapping.js';
import { GFP_KERNEL } from '../mm/gfp.js';
import { sg_init_table, sg_set_buf, type Scatterlist } from '../dma/scatterlist.js';
import { checkBarrierSweepOptions } from './options.js';

export type BarrierOp = 'map' | 'unmap' | 'sync_for_device' | 'sync_for_cpu';
export type BarrierDir = typeof DMA_BIDIRECTIONAL | typeof DMA_TO_DEVICE | typeof DMA_FROM_DEVICE;

export interface BarrierSweepOptions {
  /** sg list lengths (nents). */
  entries: readonly number[];
  /** Bytes per sg entry, one kmalloc'd buffer each. */
  entrySizes: readonly number[];
  dir: BarrierDir;
  /** The timed call: dma_map_sg, dma_unmap_sg, dma_sync_sg_for_device or dma_sync_sg_for_cpu. */
  op: BarrierOp;
  /** The only architecture with DMA cache maintenance, hence with barriers to batch. */
  arch?: 'arm64';
  seed?: number;
  /** Timed repetitions per configuration and mode (median reported); default scales with the list. */
  repetitions?: number;
  /** Called after each configuration with the fraction of the sweep done. */
  onProgress?(fraction: number): void;
}

export const BARRIER_SWEEP_DEFAULTS = {
  entries: [1, 16, 64, 256, 1024, 2560],
  entrySizes: [512, 4096, 16384],
  dir: DMA_TO_DEVICE,
  op: 'map',
  arch: 'arm64',
  seed: 1,
} as const satisfies Omit<BarrierSweepOptions, 'repetitions' | 'onProgress'>;

/** The kernel measurement the sweep is compared with (KERNEL.md §7.4). */
export const BATCHED_SYNC_SERIES = {
  name: 'dma-mapping: arm64: support batched cache sync',
  author: 'Barry Song',
  entries: 2560,
  entrySize: 4096,
  /** Reductions of dma_map_sg() and dma_unmap_sg() time, as fractions. */
  map: 0.6461,
  unmap: 0.666,
} as const;

/** What one timed call did on one machine. */
export interface BarrierModeResult {
  /** DC line operations (m.stats().cacheMaintenanceOps). */
  dcOps: number;
  /** DSBs (m.stats().barriers). */
  barriers: number;
  /** Simulated ns (m.cost().total). */
  modelNs: number;
  /** Median host ns over the repetitions. */
  wallNs: number;
}

export interface BarrierRow {
  entries: number;
  entrySize: number;
  perBuffer: BarrierModeResult;
  batched: BarrierModeResult;
  /** 1 - batched / perBuffer; NaN when per-buffer cost nothing (JSON: null). */
  modelReduction: number;
  wallReduction: number;
}

export interface BarrierSweepResult {
  op: BarrierOp;
  dir: BarrierDir;
  dirName: string;
  arch: 'arm64';
  seed: number;
  rows: BarrierRow[];
  /** m.stats() of the two machines after the sweep: per-buffer DSBs, and batched. */
  stats: { perBuffer: Stats; batched: Stats };
}

// ---- the machines and the lists ----------------------------------------------------------------

/** A device with the 64-bit mask a driver sets: kmalloc(GFP_KERNEL) lands above 4 GiB. */
interface Rig {
  readonly m: Machine;
  readonly dev: Device;
}

async function rig(batched: boolean, seed: number): Promise<Rig> {
  const m = await createMachine({ arch: 'arm64', seed, config: { ARCH_HAS_BATCHED_DMA_SYNC: batched } });
  const dev = m.createDevice({ name: batched ? 'sg-batched' : 'sg-per-buffer', driver: 'dmasim-barriers' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error('dmasim barriers: dma_set_mask_and_coherent(64) failed');
  return { m, dev };
}

interface SgList {
  readonly rig: Rig;
  readonly sgl: Scatterlist[];
  readonly bufs: number[];
  readonly size: number;
}

function buildSgList(r: Rig, entries: number, size: number): SgList {
  const sgl = sg_init_table(entries);
  const bufs = sgl.map((sg) => {
    const buf = r.m.kmalloc(size, GFP_KERNEL);
    if (buf === 0) throw new RangeError(`dmasim barriers: ${entries} entries of ${size} B do not fit in the machine's RAM`);
    sg_set_buf(sg, buf, size);
    return buf;
  });
  return { rig: r, sgl, bufs, size };
}

function freeSgList(l: SgList): void {
  for (const b of l.bufs) l.rig.m.kfree(b);
}

/** map_benchmark's stain byte: the CPU's writes leave dirty lines for the maintenance to find. */
const STAIN = 0x66;

function stain(l: SgList): void {
  for (const b of l.bufs) l.rig.m.cpu.fill(b, l.size, STAIN);
}

// ---- the operations ------------------------------------------------------------------------------

/** One timed call and the untimed work around it that puts the buffers in the state it expects. */
interface OpPlan {
  /** Once per configuration, before the repetitions. */
  setup(l: SgList, dir: BarrierDir): void;
  /** Untimed, before each repetition. */
  before(l: SgList, dir: BarrierDir): void;
  timed(l: SgList, dir: BarrierDir): void;
  /** Untimed, after each repetition. */
  after(l: SgList, dir: BarrierDir): void;
  /** Once per configuration, after the repetitions. */
  teardown(l: SgList, dir: BarrierDir): void;
}

function map(l: SgList, dir: BarrierDir): void {
  const n = l.sgl.length;
  if (dma_map_sg(l.rig.dev, l.sgl, n, dir) !== n) throw new Error(`dmasim barriers: dma_map_sg of ${n} entries failed`);
}

function unmap(l: SgList, dir: BarrierDir): void {
  dma_unmap_sg(l.rig.dev, l.sgl, l.sgl.length, dir);
}

const nothing = (): void => {};

/** A sync needs a mapping that outlives the repetitions; the stain re-dirties lines between them. */
function syncPlan(sync: (l: SgList, dir: BarrierDir) => void): OpPlan {
  return { setup: map, before: stain, timed: sync, after: nothing, teardown: unmap };
}

const PLANS: Readonly<Record<BarrierOp, OpPlan>> = {
  map: { setup: nothing, before: stain, timed: map, after: unmap, teardown: nothing },
  unmap: { setup: nothing, before: (l, d) => { stain(l); map(l, d); }, timed: unmap, after: nothing, teardown: nothing },
  sync_for_device: syncPlan((l, d) => dma_sync_sg_for_device(l.rig.dev, l.sgl, l.sgl.length, d)),
  sync_for_cpu: syncPlan((l, d) => dma_sync_sg_for_cpu(l.rig.dev, l.sgl, l.sgl.length, d)),
};

// ---- measurement ---------------------------------------------------------------------------------

/** One repetition. Counters are read outside the timed window: m.stats() crosses into WASM. */
function sample(l: SgList, plan: OpPlan, dir: BarrierDir): BarrierModeResult {
  const m = l.rig.m;
  plan.before(l, dir);
  const s0 = m.stats();
  const c0 = m.cost().total;
  const t0 = performance.now();
  plan.timed(l, dir);
  const t1 = performance.now();
  const s1 = m.stats();
  const c1 = m.cost().total;
  plan.after(l, dir);
  return { dcOps: s1.cacheMaintenanceOps - s0.cacheMaintenanceOps, barriers: s1.barriers - s0.barriers, modelNs: c1 - c0, wallNs: (t1 - t0) * 1e6 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * performance.now() resolves about a microsecond, and a one-entry map takes less: short lists
 * need many samples for a median that means anything, long ones (a 10 MiB stain each) few.
 */
function defaultRepetitions(entries: number): number {
  return Math.max(15, Math.min(301, Math.round(8192 / entries) | 1));
}

/** 1 - after / before, NaN when there was nothing to reduce (e.g. sync_for_cpu of DMA_TO_DEVICE). */
function reduction(before: number, after: number): number {
  return before > 0 ? 1 - after / before : Number.NaN;
}

/**
 * The two modes take turns, and turns about who goes first, so that host drift (JIT tiers, GC,
 * the host caches the other machine's stain just flushed) lands on both alike. The first
 * repetition of each only warms up; its counters are the row's (every repetition has the same).
 */
function measureConfig(lists: readonly [SgList, SgList], plan: OpPlan, dir: BarrierDir, reps: number): [BarrierModeResult, BarrierModeResult] {
  for (const l of lists) plan.setup(l, dir);
  const warm = [sample(lists[0], plan, dir), sample(lists[1], plan, dir)] as const;
  const walls: [number[], number[]] = [[], []];
  for (let i = 0; i < reps; i++) {
    for (const k of i % 2 === 0 ? [0, 1] as const : [1, 0] as const) walls[k].push(sample(lists[k], plan, dir).wallNs);
  }
  for (const l of lists) plan.teardown(l, dir);
  return [{ ...warm[0], wallNs: median(walls[0]) }, { ...warm[1], wallNs: median(walls[1]) }];
}

/** Lets a progress bar repaint between configurations (setTimeout: browsers have no setImmediate). */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** The sweep: every (entries, entry size), per-buffer and batched, on two machines of one seed. */
export async function runBarrierSweep(options: Partial<BarrierSweepOptions> = {}): Promise<BarrierSweepResult> {
  const o = checkBarrierSweepOptions('runBarrierSweep', options, BARRIER_SWEEP_DEFAULTS as BarrierSweepOptions, Object.keys(PLANS));
  const seed = o.seed ?? BARRIER_SWEEP_DEFAULTS.seed;
  const rigs = [await rig(false, seed), await rig(true, seed)] as const;
  const plan = PLANS[o.op];
  const rows: BarrierRow[] = [];
  const total = o.entries.length * o.entrySizes.length;
  for (const entrySize of o.entrySizes) {
    for (const entries of o.entries) {
      const lists = [buildSgList(rigs[0], entries, entrySize), buildSgList(rigs[1], entries, entrySize)] as const;
      const [perBuffer, batched] = measureConfig(lists, plan, o.dir, o.repetitions ?? defaultRepetitions(entries));
      lists.forEach(freeSgList);
      rows.push({
        entries, entrySize, perBuffer, batched,
        modelReduction: reduction(perBuffer.modelNs, batched.modelNs),
        wallReduction: reduction(perBuffer.wallNs, batched.wallNs),
      });
      o.onProgress?.(rows.length / total);
      await tick();
    }
  }
  const stats = { perBuffer: rigs[0].m.stats(), batched: rigs[1].m.stats() };
  return { op: o.op, dir: o.dir, dirName: dir2name[o.dir] as string, arch: 'arm64', seed, rows, stats };
}

// ---- presentation ------------------------------------------------------------------------------

/** The DMA API call each op times, as the table and the chart name it. */
export const BARRIER_OP_CALL: Readonly<Record<BarrierOp, string>> = {
  map: 'dma_map_sg',
  unmap: 'dma_unmap_sg',
  sync_for_device: 'dma_sync_sg_for_device',
  sync_for_cpu: 'dma_sync_sg_for_cpu',
};

/** The kernel's reduction for this op, where the series measured one. */
export function kernelReduction(op: BarrierOp): number | undefined {
  return op === 'map' ? BATCHED_SYNC_SERIES.map : op === 'unmap' ? BATCHED_SYNC_SERIES.unmap : undefined;
}

/** The sweep's row for the configuration the series measured, if it ran it. */
export function kernelConfigRow(r: BarrierSweepResult): BarrierRow | undefined {
  return r.rows.find((row) => row.entries === BATCHED_SYNC_SERIES.entries && row.entrySize === BATCHED_SYNC_SERIES.entrySize);
}

export function formatSize(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes >> 20} MiB`;
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes >> 10} KiB` : `${bytes} B`;
}

/** A reduction as the kernel's cover letter writes it: a signed change in time. */
export function formatChange(reductionFraction: number): string {
  return Number.isFinite(reductionFraction) ? `${(-reductionFraction * 100).toFixed(2)} %` : 'n/a';
}

/** The configuration the series measured, as the table and the chart print it. */
export const KERNEL_CONFIG = `${BATCHED_SYNC_SERIES.entries} x ${formatSize(BATCHED_SYNC_SERIES.entrySize)}`;

const us = (ns: number): string => (ns / 1e3).toFixed(1);

interface Column {
  readonly group: string;
  readonly name: string;
  readonly width: number;
  readonly cell: (r: BarrierRow) => string;
}

export const BARRIER_TABLE_COLUMNS: readonly Column[] = [
  { group: '', name: 'entries', width: 7, cell: (r) => String(r.entries) },
  { group: '', name: 'size', width: 7, cell: (r) => formatSize(r.entrySize) },
  { group: 'DC ops', name: 'per-buf', width: 8, cell: (r) => String(r.perBuffer.dcOps) },
  { group: 'DC ops', name: 'batched', width: 8, cell: (r) => String(r.batched.dcOps) },
  { group: 'DSBs', name: 'per-buf', width: 7, cell: (r) => String(r.perBuffer.barriers) },
  { group: 'DSBs', name: 'batched', width: 7, cell: (r) => String(r.batched.barriers) },
  { group: 'model time (us)', name: 'per-buf', width: 9, cell: (r) => us(r.perBuffer.modelNs) },
  { group: 'model time (us)', name: 'batched', width: 9, cell: (r) => us(r.batched.modelNs) },
  { group: 'model time (us)', name: 'change', width: 9, cell: (r) => formatChange(r.modelReduction) },
  { group: 'wall time (us)', name: 'per-buf', width: 9, cell: (r) => us(r.perBuffer.wallNs) },
  { group: 'wall time (us)', name: 'batched', width: 9, cell: (r) => us(r.batched.wallNs) },
  { group: 'wall time (us)', name: 'change', width: 9, cell: (r) => formatChange(r.wallReduction) },
];

const GAP = '  ';

function line(cells: readonly string[]): string {
  return cells.map((c, i) => c.padStart(BARRIER_TABLE_COLUMNS[i]!.width)).join(GAP).trimEnd();
}

/** Group labels centred over their columns, so the two per-buf/batched pairs read apart. */
function groupHeader(): string {
  let out = '';
  let at = 0;
  for (let i = 0; i < BARRIER_TABLE_COLUMNS.length;) {
    const g = BARRIER_TABLE_COLUMNS[i]!.group;
    let j = i;
    let span = -GAP.length;
    while (j < BARRIER_TABLE_COLUMNS.length && BARRIER_TABLE_COLUMNS[j]!.group === g) span += BARRIER_TABLE_COLUMNS[j++]!.width + GAP.length;
    const left = Math.max(0, Math.floor((span - g.length) / 2));
    out += ' '.repeat(at - out.length + left) + g;
    at += span + GAP.length;
    i = j;
  }
  return out.trimEnd();
}

/** Caption, two header lines, a rule, one line per configuration, and the kernel's figure. */
export function formatBarrierTable(r: BarrierSweepResult): string[] {
  const header = line(BARRIER_TABLE_COLUMNS.map((c) => c.name));
  const out = [
    `${BARRIER_OP_CALL[r.op]}(${r.dirName}) on ${r.arch}: one DSB per buffer (--per-buffer, before 7.1) vs one per list (Linux 7.1, the default), seed ${r.seed}`,
    groupHeader(),
    header,
    '-'.repeat(header.length),
    ...r.rows.map((row) => line(BARRIER_TABLE_COLUMNS.map((c) => c.cell(row)))),
  ];
  const kernel = kernelReduction(r.op);
  const ref = kernelConfigRow(r);
  if (kernel !== undefined && ref !== undefined) {
    out.push(`${KERNEL_CONFIG}: model ${formatChange(ref.modelReduction)}, kernel ${formatChange(kernel)} (${BATCHED_SYNC_SERIES.name})`);
  }
  return out;
}
