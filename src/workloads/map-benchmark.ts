// dma_map_benchmark: the loop of kernel/dma/map_benchmark.c (stain, map, ndelay, unmap; sums and
// sums of squares of the latencies in 100 ns units) behind the options, validation and output of
// tools/testing/selftests/dma/dma_map_benchmark.c (the version with -m, single or sg mode).
//
// Time. dmasim cannot time a kernel call: a call's latency is the simulated time it costs under
// the machine's cost model (cost.ts), the model nanoseconds of the counters it moved. Those go
// through the kernel's arithmetic unchanged (truncated to 100 ns units, integer averages and
// int_sqrt64 deviations), so a direct map that costs 95 model ns reads 0.0 as it would on a fast
// machine. ndelay(dma_trans_ns) advances the simulated clock without waiting. Beside the kernel's
// figures the exact model nanoseconds and the wall time per call are reported: each call is
// bracketed by performance.now() (inside the counter reads, so reading them is not timed), summed
// over every loop, and the timer's own cost, measured before the run, is subtracted.
//
// Duration. `seconds` is simulated time: a thread runs loops until its clock (the sum of its
// loops' map + delay + unmap model time) reaches `seconds`, the moment the kernel's
// msleep_interruptible() would end and kthread_stop() stop it. A 20 s run of sub-microsecond
// loops would take millions of loops, so a loop budget (`maxLoops`, all threads together; by
// default MAP_BENCHMARK_PAGE_BUDGET pages' worth) bounds the wall time; the result gives the
// loops, the simulated time reached and which limit ended the run. An abort signal ends it as a
// signal ends the kernel's interruptible sleep: the results so far are reported.
//
// Threads. The kernel runs them in parallel on different CPUs; dmasim has one CPU, so the
// threads take turns, one loop each, each with its own buffers and its own simulated clock, and
// the run's simulated time is the largest of those clocks (parallel threads share wall time).
// They share the one cache, as threads on CPUs behind one shared cache to the PoC would. A failed
// map ends the whole run: in the kernel only that thread stops, but the ioctl then fails all the
// same and no figures come back.

import type { Device } from '../dma/device.js';
import {
  DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, EINVAL, ENOMEM, type DmaDirection,
} from '../include/dma-mapping.js';
import { DebugfsError } from '../lib/debugfs.js';
import type { Machine, Stats } from '../machine.js';
import { dma_get_mask, dma_map_sg, dma_map_single, dma_mapping_error, dma_set_mask, dma_unmap_sg, dma_unmap_single } from '../dma/mapping.js';
import { GFP_KERNEL } from '../mm/gfp.js';
import { PAGE_SIZE, type Page } from '../mm/memory.js';
import { sg_alloc_table, sg_set_buf, type SgTable } from '../dma/scatterlist.js';
import { checkOptions } from '../lib/validate.js';
import { checkMachine } from './options.js';

/** include/uapi/linux/map_benchmark.h */
export const DMA_MAP_MAX_THREADS = 1024;
export const DMA_MAP_MAX_SECONDS = 300;
export const DMA_MAP_MAX_TRANS_DELAY = 10 * 1_000_000;
export const DMA_MAP_BIDIRECTIONAL = 0;
export const DMA_MAP_TO_DEVICE = 1;
export const DMA_MAP_FROM_DEVICE = 2;
export const DMA_MAP_BENCH_SINGLE_MODE = 0;
export const DMA_MAP_BENCH_SG_MODE = 1;
export const DMA_MAP_BENCH_MODE_MAX = 2;

/** The inputs of struct map_benchmark, as the selftest's options set them. */
export interface MapBenchmarkOptions {
  /** -t: kthreads mapping in parallel. */
  threads: number;
  /** -s: how long the test lasts (simulated seconds in dmasim). */
  seconds: number;
  /** -n: NUMA node, -1 for none (dmasim has node 0 only). */
  node: number;
  /** -b: the width of the DMA mask the device gets for the run. */
  dmaBits: number;
  /** -d: DMA_MAP_BIDIRECTIONAL, DMA_MAP_TO_DEVICE or DMA_MAP_FROM_DEVICE. */
  dir: 0 | 1 | 2;
  /** -x: ns between map and unmap, "pretending DMA is transmitting". */
  transDelayNs: number;
  /** -g: pages per map (single mode) or sg entries of one page (sg mode). */
  granule: number;
  /** -m: DMA_MAP_BENCH_SINGLE_MODE or DMA_MAP_BENCH_SG_MODE. */
  mode: 0 | 1;
}

/** The selftest's defaults: one thread, 20 s, no node, 32-bit mask, bidirectional, 1 page, single mode. */
export const MAP_BENCHMARK_DEFAULTS: Readonly<MapBenchmarkOptions> = {
  threads: 1, seconds: 20, node: -1, dmaBits: 32, dir: 0, transDelayNs: 0, granule: 1, mode: 0,
};

/**
 * Pages mapped (loops times granule, all threads together) after which a run stops if the
 * simulated clock has not ended it: a loop's wall time grows with the pages it stains and maps,
 * and this budget keeps a default run near one second of wall time at any granule.
 */
export const MAP_BENCHMARK_PAGE_BUDGET = 100_000;

/** The loop budget of a run at this granule when the caller gives none. */
export function defaultMaxLoops(granule: number): number {
  return Math.ceil(MAP_BENCHMARK_PAGE_BUDGET / granule);
}

export interface MapBenchmarkControl {
  /** Called now and then with the part of the run done, 0..1. */
  onProgress?(fraction: number): void;
  /** Ends the run early, as a signal ends the kernel's msleep_interruptible(); results so far are kept. */
  signal?: AbortSignal;
  /** The loop budget, all threads together (default: defaultMaxLoops(granule)). */
  maxLoops?: number;
}

export interface MapBenchmarkResult {
  /** struct map_benchmark's outputs, in 100 ns units (bigint: they are u64). */
  avg_map_100ns: bigint;
  map_stddev: bigint;
  avg_unmap_100ns: bigint;
  unmap_stddev: bigint;
  /** Map/unmap pairs done, all threads together. */
  loops: number;
  /** Simulated time the run lasted (the longest thread clock), ns. */
  simulatedNs: number;
  /** What ended the run. */
  stoppedBy: 'seconds' | 'maxLoops' | 'signal' | 'error';
  /** Mean model ns per call, not truncated. */
  modelMapNs: number;
  modelUnmapNs: number;
  /** Mean wall ns per call on this host. */
  wallMapNs: number;
  wallUnmapNs: number;
  /** What the selftest would print to stderr and exit 1 with, or null. */
  error: string | null;
  /** The selftest's stdout, then one dmasim line with the nanosecond figures. */
  lines: string[];
}

const DIRECTIONS = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE'] as const;
/** dma_map_benchmark's struct map_benchmark_data.dir for each uapi direction. */
const KERNEL_DIR: readonly DmaDirection[] = [DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE];
const NUMA_NO_NODE = -1;
/** dmasim's node_possible_map: node 0. */
const NR_NODES = 1;
const NSEC_PER_SEC = 1e9;
/** What perror("ioctl") prints for each errno the ioctl returns. */
const STRERROR: Readonly<Record<number, string>> = { [EINVAL]: 'Invalid argument', [ENOMEM]: 'Cannot allocate memory' };
/** Wall time between returns to the event loop (progress, abort), ms. */
const YIELD_MS = 50;

// ---- validation -------------------------------------------------------------------------

type Args = Readonly<Record<keyof MapBenchmarkOptions, number>>;

function inRange(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

/** The selftest's checks, in its order, with its messages (each would exit 1). */
function selftestCheck(o: Args): string | null {
  // The selftest's `map_mode >= DMA_MAP_BENCH_MODE_MAX` lets a negative mode through to the
  // kernel, whose u8 map_mode then fails ioctlCheck; a non-integer is no atoi() result at all.
  if (!Number.isInteger(o.mode) || o.mode >= DMA_MAP_BENCH_MODE_MAX) {
    return `invalid map mode, DMA_MAP_BENCH_SINGLE_MODE:${DMA_MAP_BENCH_SINGLE_MODE}, DMA_MAP_BENCH_SG_MODE:${DMA_MAP_BENCH_SG_MODE}`;
  }
  if (!inRange(o.threads, 1, DMA_MAP_MAX_THREADS)) return `invalid number of threads, must be in 1-${DMA_MAP_MAX_THREADS}`;
  if (!inRange(o.seconds, 1, DMA_MAP_MAX_SECONDS)) return `invalid number of seconds, must be in 1-${DMA_MAP_MAX_SECONDS}`;
  if (!inRange(o.transDelayNs, 0, DMA_MAP_MAX_TRANS_DELAY)) return `invalid transmit delay, must be in 0-${DMA_MAP_MAX_TRANS_DELAY}`;
  if (!inRange(o.dmaBits, 20, 64)) return 'invalid dma mask bit, must be in 20-64';
  if (o.dir !== DMA_MAP_BIDIRECTIONAL && o.dir !== DMA_MAP_TO_DEVICE && o.dir !== DMA_MAP_FROM_DEVICE) return 'invalid dma direction';
  if (!inRange(o.granule, 1, 1024)) return 'invalid granule size';
  return null;
}

/** map_benchmark_ioctl()'s checks, in its order: the pr_err text (without the module prefix). */
function ioctlCheck(o: Args): string | null {
  if (!inRange(o.mode, 0, DMA_MAP_BENCH_MODE_MAX - 1)) return 'invalid map mode';
  if (!inRange(o.threads, 1, DMA_MAP_MAX_THREADS)) return 'invalid thread number';
  if (!inRange(o.seconds, 1, DMA_MAP_MAX_SECONDS)) return 'invalid duration seconds';
  if (!inRange(o.transDelayNs, 0, DMA_MAP_MAX_TRANS_DELAY)) return 'invalid transmission delay';
  if (o.node !== NUMA_NO_NODE && !inRange(o.node, 0, NR_NODES - 1)) return 'invalid numa node';
  if (!inRange(o.granule, 1, 1024)) return 'invalid granule size';
  if (KERNEL_DIR[o.dir] === undefined) return 'invalid DMA direction';
  return null;
}

/**
 * The selftest's validation with its exact messages, then what only the kernel checks (the NUMA
 * node) as the kernel logs it ("map_benchmark: invalid numa node"). Null when a run can start.
 */
export function checkMapBenchmarkOptions(o: Args): string | null {
  const selftest = selftestCheck(o);
  if (selftest !== null) return selftest;
  const kernel = ioctlCheck(o);
  return kernel === null ? null : `map_benchmark: ${kernel}`;
}

// ---- the kernel's arithmetic ----------------------------------------------------------------

/**
 * div64_ul(delta, 100) of a latency in ns. Model times are sums of non-dyadic products
 * (0.05 ns per copied byte), so 1e-9 of a unit absorbs their float error: an exact 300 ns is
 * 3 units, as an integer ktime delta would be.
 */
export function to100ns(ns: number): number {
  return Math.floor(ns / 100 + 1e-9);
}

/** int_sqrt64(), lib/math/int_sqrt.c: the integer square root, bit by bit. */
export function int_sqrt64(x: bigint): bigint {
  if (x < 2n) return x;
  let m = 1n << (BigInt(x.toString(2).length - 1) & ~1n);
  let y = 0n;
  while (m !== 0n) {
    const b = y + m;
    y >>= 1n;
    if (x >= b) {
      x -= b;
      y += m;
    }
    m >>= 2n;
  }
  return y;
}

/** do_map_benchmark()'s average and standard deviation, in u64 arithmetic. */
export function latencyStats(sum: bigint, sumSq: bigint, loops: bigint): { avg: bigint; stddev: bigint } {
  const avg = sum / loops;
  const variance = BigInt.asUintN(64, sumSq / loops - avg * avg);
  return { avg, stddev: int_sqrt64(variance) };
}

/** The atomic64 sums one latency accumulates into. */
class Latency {
  sum100ns = 0;
  sumSq = 0;
  modelNs = 0;
  wallMs = 0;

  /** Sums stay exact: a run's loops times a call's units squared is far below 2^53. */
  add(modelNs: number, wallMs: number): void {
    const units = to100ns(modelNs);
    this.sum100ns += units;
    this.sumSq += units * units;
    this.modelNs += modelNs;
    this.wallMs += wallMs;
  }

  stats(loops: number): { avg: bigint; stddev: bigint } {
    return latencyStats(BigInt(this.sum100ns), BigInt(this.sumSq), BigInt(loops));
  }
}

// ---- the benchmark device and its buffers -------------------------------------------------------

const devices = new WeakMap<Machine, Device>();

/**
 * The device the benchmark drives on `m`, made on first use: a platform device named after the
 * driver, so that it binds by name (platform_match()). Probing creates the debugfs file the
 * selftest opens; it has no read op (simple_open + ioctl only).
 */
export function mapBenchmarkDevice(m: Machine): Device {
  let dev = devices.get(m);
  if (dev === undefined) {
    dev = m.createDevice({ name: 'dma_map_benchmark', driver: 'dma_map_benchmark' });
    const path = '/sys/kernel/debug/dma_map_benchmark';
    m.debugfs.create(path, { read: () => { throw new DebugfsError('EINVAL', EINVAL, path); } });
    devices.set(m, dev);
  }
  return dev;
}

/** struct map_benchmark_ops, bound to one thread's buffers. */
interface BenchOps {
  initializeData(): void;
  /** 0, or -ENOMEM after logging the failure. */
  doMap(): number;
  doUnmap(): void;
  unprepare(): void;
}

/** get_order() */
function getOrder(size: number): number {
  return Math.max(0, Math.ceil(Math.log2(size / PAGE_SIZE)));
}

/** Each loop dirties the buffer, so that a non-coherent map has lines to clean ("66 is lucky"). */
function stain(m: Machine, dir: DmaDirection, buf: number, len: number): void {
  if (dir !== DMA_FROM_DEVICE) m.cpu.fill(buf, len, 0x66);
}

/**
 * dma_single_map_benchmark_ops. The kernel's alloc_pages_exact() gives back the pages past the
 * size; a power-of-two block of the same order serves the same mappings.
 */
function singlePrepare(m: Machine, dev: Device, dir: DmaDirection, npages: number): BenchOps | null {
  const size = npages * PAGE_SIZE;
  const order = getOrder(size);
  const page = m.alloc_pages(GFP_KERNEL, order);
  if (page === null) return null;
  const xbuf = m.page_address(page);
  let addr = 0;
  return {
    initializeData: () => { stain(m, dir, xbuf, size); },
    doMap: () => {
      addr = dma_map_single(dev, xbuf, size, dir);
      if (dma_mapping_error(dev, addr)) {
        m.log.pr_err(`map_benchmark: dma_map_single failed on ${dev.name}`);
        return -ENOMEM;
      }
      return 0;
    },
    doUnmap: () => { dma_unmap_single(dev, addr, size, dir); },
    unprepare: () => { m.__free_pages(page, order); },
  };
}

/** dma_sg_map_benchmark_ops: `npages` entries, one separately allocated page each. */
function sgPrepare(m: Machine, dev: Device, dir: DmaDirection, npages: number): BenchOps | null {
  const pages: Page[] = [];
  const sgt: SgTable = sg_alloc_table(npages);
  for (const sg of sgt.sgl) {
    const page = m.alloc_pages(GFP_KERNEL, 0);
    if (page === null) {
      for (const p of pages) m.__free_pages(p, 0);
      return null;
    }
    pages.push(page);
    sg_set_buf(sg, m.page_address(page), PAGE_SIZE);
  }
  const bufs = pages.map((p) => m.page_address(p));
  return {
    initializeData: () => { for (const b of bufs) stain(m, dir, b, PAGE_SIZE); },
    doMap: () => {
      if (dma_map_sg(dev, sgt.sgl, npages, dir) === 0) {
        m.log.pr_err(`map_benchmark: dma_map_sg failed on ${dev.name}`);
        return -ENOMEM;
      }
      return 0;
    },
    doUnmap: () => { dma_unmap_sg(dev, sgt.sgl, npages, dir); },
    unprepare: () => { for (const p of pages) m.__free_pages(p, 0); },
  };
}

// ---- the run ------------------------------------------------------------------------------------

/**
 * Model ns between two counter snapshots: the cost of the counters' difference, not the difference
 * of two costs, which loses the low digits once a long run's total is large.
 */
class ModelClock {
  private readonly keys: readonly (keyof Stats)[];
  private readonly delta: Stats;

  constructor(private readonly m: Machine) {
    this.delta = m.stats();
    this.keys = Object.keys(this.delta) as (keyof Stats)[];
  }

  between(before: Stats, after: Stats): number {
    const d = this.delta;
    for (const k of this.keys) d[k] = after[k] - before[k];
    return this.m.costModel.evaluate(d).total;
  }
}

/** The mean cost of an empty performance.now() bracket, ms. */
function timerOverheadMs(): number {
  const n = 10_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) performance.now();
  return (performance.now() - t0) / n;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, 0); });
}

interface Thread {
  readonly ops: BenchOps;
  clockNs: number;
}

/** What map_benchmark_thread() accumulates, shared by every thread. */
class Run {
  readonly map = new Latency();
  readonly unmap = new Latency();
  loops = 0;
  stoppedBy: MapBenchmarkResult['stoppedBy'] = 'seconds';

  private readonly clock: ModelClock;

  constructor(private readonly m: Machine, private readonly transDelayNs: number) {
    this.clock = new ModelClock(m);
  }

  /** One iteration of map_benchmark_thread()'s loop; -ENOMEM ends the run. */
  loop(t: Thread): number {
    const m = this.m;
    t.ops.initializeData();
    const s0 = m.stats();
    const w0 = performance.now();
    const ret = t.ops.doMap();
    const w1 = performance.now();
    const s1 = m.stats();
    if (ret !== 0) return ret;
    const w2 = performance.now();
    t.ops.doUnmap();
    const w3 = performance.now();
    const s2 = m.stats();
    const mapNs = this.clock.between(s0, s1);
    const unmapNs = this.clock.between(s1, s2);
    this.map.add(mapNs, w1 - w0);
    this.unmap.add(unmapNs, w3 - w2);
    this.loops++;
    t.clockNs += mapNs + this.transDelayNs + unmapNs; // ndelay(dma_trans_ns)
    return 0;
  }
}

/** The threads' loops, in turns, until every clock reaches `seconds` or a limit ends the run. */
async function runThreads(run: Run, threads: Thread[], o: MapBenchmarkOptions, c: MapBenchmarkControl): Promise<number> {
  const endNs = o.seconds * NSEC_PER_SEC;
  const maxLoops = c.maxLoops ?? defaultMaxLoops(o.granule);
  let active = threads;
  let lastYield = performance.now();
  while (active.length > 0) {
    for (const t of active) {
      if (c.signal?.aborted === true) {
        run.stoppedBy = 'signal';
        return 0;
      }
      if (run.loops >= maxLoops) {
        run.stoppedBy = 'maxLoops';
        return 0;
      }
      const ret = run.loop(t);
      if (ret !== 0) return ret;
    }
    active = active.filter((t) => t.clockNs < endNs);
    if (performance.now() - lastYield >= YIELD_MS) {
      const least = Math.min(...threads.map((t) => t.clockNs));
      c.onProgress?.(Math.min(1, Math.max(least / endNs, run.loops / maxLoops)));
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  return 0;
}

/** do_map_benchmark(): prepare every thread, run, then release what they prepared. */
async function doMapBenchmark(m: Machine, dev: Device, o: MapBenchmarkOptions, c: MapBenchmarkControl, run: Run): Promise<{ ret: number; threads: Thread[] }> {
  const dir = KERNEL_DIR[o.dir] as DmaDirection;
  const prepare = o.mode === DMA_MAP_BENCH_SG_MODE ? sgPrepare : singlePrepare;
  const threads: Thread[] = [];
  try {
    for (let i = 0; i < o.threads; i++) {
      const ops = prepare(m, dev, dir, o.granule);
      if (ops === null) return { ret: -ENOMEM, threads };
      threads.push({ ops, clockNs: 0 });
    }
    return { ret: await runThreads(run, threads, o, c), threads };
  } finally {
    for (const t of threads) t.ops.unprepare();
  }
}

function fmt1(x: number): string {
  return x.toFixed(1);
}

/** The selftest's printf()s, then dmasim's nanosecond line. */
function outputLines(o: MapBenchmarkOptions, r: Omit<MapBenchmarkResult, 'lines' | 'error'>): string[] {
  const us = (v: bigint): string => fmt1(Number(v) / 10.0);
  return [
    `dma mapping mode: ${o.mode}`,
    `dma mapping benchmark: threads:${o.threads} seconds:${o.seconds} node:${o.node} dir:${DIRECTIONS[o.dir]} granule/sg_nents: ${o.granule}`,
    `average map latency(us):${us(r.avg_map_100ns)} standard deviation:${us(r.map_stddev)}`,
    `average unmap latency(us):${us(r.avg_unmap_100ns)} standard deviation:${us(r.unmap_stddev)}`,
    `dmasim: map ${fmt1(r.modelMapNs)} ns unmap ${fmt1(r.modelUnmapNs)} ns (model), map ${fmt1(r.wallMapNs)} ns unmap ${fmt1(r.wallUnmapNs)} ns (wall), loops ${r.loops}`,
  ];
}

function failed(error: string): MapBenchmarkResult {
  return {
    avg_map_100ns: 0n, map_stddev: 0n, avg_unmap_100ns: 0n, unmap_stddev: 0n, loops: 0, simulatedNs: 0, stoppedBy: 'error',
    modelMapNs: 0, modelUnmapNs: 0, wallMapNs: 0, wallUnmapNs: 0, error, lines: [],
  };
}

/** The results of a finished run: the kernel's figures when there were loops, zeros (the struct the selftest zeroed) otherwise. */
function results(o: MapBenchmarkOptions, run: Run, threads: Thread[], timerMs: number): MapBenchmarkResult {
  const loops = run.loops;
  const map = loops > 0 ? run.map.stats(loops) : { avg: 0n, stddev: 0n };
  const unmap = loops > 0 ? run.unmap.stats(loops) : { avg: 0n, stddev: 0n };
  const perCall = (total: number): number => (loops > 0 ? total / loops : 0);
  const wallNs = (l: Latency): number => Math.max(0, perCall(l.wallMs) - (loops > 0 ? timerMs : 0)) * 1e6;
  const r = {
    avg_map_100ns: map.avg, map_stddev: map.stddev, avg_unmap_100ns: unmap.avg, unmap_stddev: unmap.stddev,
    loops, simulatedNs: Math.max(0, ...threads.map((t) => t.clockNs)), stoppedBy: run.stoppedBy,
    modelMapNs: perCall(run.map.modelNs), modelUnmapNs: perCall(run.unmap.modelNs),
    wallMapNs: wallNs(run.map), wallUnmapNs: wallNs(run.unmap),
  };
  return { ...r, error: null, lines: outputLines(o, r) };
}

/**
 * The selftest run against the kernel module on machine `m`: validate, then the ioctl (the
 * module's checks, the mask for the run, the threads' loops, the old mask restored). A failure
 * is reported as the selftest reports it (its message, or perror("ioctl")), the kernel's own
 * message going to m.dmesg().
 */
export async function runMapBenchmark(m: Machine, opts: MapBenchmarkOptions, control: MapBenchmarkControl = {}): Promise<MapBenchmarkResult> {
  checkMachine('runMapBenchmark', m);
  const o = { ...MAP_BENCHMARK_DEFAULTS, ...checkOptions('runMapBenchmark', 'opts', opts, Object.keys(MAP_BENCHMARK_DEFAULTS)) } as MapBenchmarkOptions;
  checkOptions('runMapBenchmark', 'control', control, ['onProgress', 'signal', 'maxLoops']);
  const bad = selftestCheck(o);
  if (bad !== null) return failed(bad);
  const dev = mapBenchmarkDevice(m);
  const ioctlError = (errno: number): MapBenchmarkResult => failed(`ioctl: ${STRERROR[errno] ?? `errno ${errno}`}`);
  const rejected = ioctlCheck(o);
  if (rejected !== null) {
    m.log.pr_err(`map_benchmark: ${rejected}`);
    return ioctlError(EINVAL);
  }
  const oldMask = dma_get_mask(dev);
  if (dma_set_mask(dev, DMA_BIT_MASK(o.dmaBits)) !== 0) {
    m.log.pr_err(`map_benchmark: failed to set dma_mask on device ${dev.name}`);
    return ioctlError(EINVAL);
  }
  try {
    const timerMs = timerOverheadMs();
    const run = new Run(m, o.transDelayNs);
    const { ret, threads } = await doMapBenchmark(m, dev, o, control, run);
    if (ret !== 0) return ioctlError(-ret);
    control.onProgress?.(1);
    return results(o, run, threads, timerMs);
  } finally {
    // The device's mask belongs to whoever set it before (arch, firmware, bus): put it back.
    dma_set_mask(dev, oldMask);
  }
}
