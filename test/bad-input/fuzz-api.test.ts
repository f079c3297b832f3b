// The fuzzer (issue 13, "keep it that way"): random sequences of calls to every exported function
// and every machine, cpu, cache, debugfs, device, scatterlist, dma_pool and workload method, on
// random machines, each call with valid arguments taken from what the sequence made so far, or
// with one argument replaced by garbage. Whatever a call does, it never traps the engine
// (DmaCoreFault) and never throws anything but the documented errors (DmaSimError, DmaFaultError,
// KernelBug for a BUG_ON, DebugfsError for an errno); a DmaSimError names the function called,
// and the machine is exactly as before it: counters, log, allocators, swiotlb, dma-debug, the
// data checker, and a sample of the bytes of RAM and of the cache.
// Seeded; about 20 s in CI; DMASIM_FUZZ_RUNS=n runs n sequences.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import * as api from '../../src/index.js';
import {
  createMachine, DebugfsError, DmaCoreFault, DmaFaultError, DmaSimError, KernelBug, type Device, type DmaPool, type Machine, type Page,
  type Scatterlist,
} from '../../src/index.js';
import * as workloads from '../../src/workloads/index.js';
import { changedSince, snapshot } from '../support/refused.js';

const RUNS = Number(process.env.DMASIM_FUZZ_RUNS ?? 100);
const CALLS_PER_RUN = 120;

/** Values no kernel caller could pass (some happen to be valid for some arguments). */
const GARBAGE: readonly unknown[] = [
  undefined, null, NaN, -1, -4096, 1.5, Infinity, -Infinity, 2 ** 53, 2 ** 64, 2 ** 33, 0x7fff_ffff, 12345, '', '5', 'x',
  1n, -1n, 2n ** 70n, Symbol('s'), {}, [], [null], () => 0, true, new Uint8Array(0), new Uint8Array(3), { name: 5 },
];

/** What a sequence has made so far, where valid arguments come from. */
interface Ctx {
  readonly m: Machine;
  readonly devs: Device[];
  readonly bufs: { ptr: number; size: number }[];
  readonly vbufs: number[];
  readonly pages: { page: Page; order: number }[];
  readonly maps: { dev: Device; addr: number; size: number; dir: number }[];
  readonly coherent: { dev: Device; size: number; cpu_addr: number; dma_handle: number }[];
  readonly sgls: { sgl: Scatterlist[]; n: number }[];
  readonly pools: DmaPool[];
  readonly blocks: { pool: DmaPool; vaddr: number; dma: number }[];
  rand(n: number): number;
}

type Gen = (c: Ctx) => unknown;
const pick = <T>(c: Ctx, a: readonly T[], or: T): T => (a.length === 0 ? or : (a[c.rand(a.length)] as T));
const dev: Gen = (c) => pick(c, c.devs, c.devs[0]);
const size: Gen = (c) => pick(c, [0, 1, 64, 100, 4096, 8192, 65536], 64);
const dir: Gen = (c) => c.rand(3);
const anyDir: Gen = (c) => c.rand(4);
const attrs: Gen = (c) => pick(c, [0, 0, api.DMA_ATTR_SKIP_CPU_SYNC, api.DMA_ATTR_WEAK_ORDERING], 0);
const gfp: Gen = (c) => pick(c, [api.GFP_KERNEL, api.GFP_ATOMIC, api.GFP_KERNEL | api.__GFP_ZERO, api.GFP_DMA32], api.GFP_KERNEL);
const ptr: Gen = (c) => pick(c, c.bufs, { ptr: c.m.kmalloc(64, api.GFP_KERNEL), size: 64 }).ptr;
const bufLen: Gen = (c) => pick(c, c.bufs, { ptr: 0, size: 64 }).size;
const phys: Gen = (c) => c.m.virt_to_phys(ptr(c) as number);
const page: Gen = (c) => pick(c, c.pages, { page: c.m.virt_to_page(ptr(c) as number), order: 0 }).page;
const order: Gen = (c) => c.rand(3);
const handle: Gen = (c) => pick(c, c.maps, { dev: c.devs[0]!, addr: api.DMA_MAPPING_ERROR, size: 0, dir: 0 }).addr;
const mask: Gen = (c) => api.DMA_BIT_MASK(pick(c, [24, 32, 40, 64], 64));
const sgl: Gen = (c) => pick(c, c.sgls, { sgl: [], n: 0 }).sgl;
const nents: Gen = (c) => pick(c, c.sgls, { sgl: [], n: 0 }).n;
const sgt: Gen = (c) => {
  const s = pick(c, c.sgls, { sgl: [], n: 0 });
  return { sgl: s.sgl, nents: s.n, orig_nents: s.n };
};
const sg: Gen = (c) => pick(c, c.sgls, { sgl: api.sg_init_table(1), n: 1 }).sgl[0];
const pool: Gen = (c) => pick(c, c.pools, null);
const block = (c: Ctx): Ctx['blocks'][number] => pick(c, c.blocks, { pool: null as never, vaddr: 0, dma: 0 });
const coh = (c: Ctx): Ctx['coherent'][number] => pick(c, c.coherent, { dev: c.devs[0]!, size: 0, cpu_addr: 0, dma_handle: 0 });
const byte: Gen = (c) => c.rand(256);
const bytes: Gen = (c) => new Uint8Array(c.rand(200)).fill(c.rand(256));
const dma: Gen = (c) => (c.maps.length > 0 ? handle(c) : coh(c).dma_handle);
const debugPath: Gen = (c) => pick(c, [
  '/sys/kernel/debug/dma-api/num_free_entries', '/sys/kernel/debug/dma-api/driver_filter', '/sys/kernel/debug/dma-api/dump',
  '/sys/kernel/debug/swiotlb/io_tlb_used', '/sys/kernel/debug/dma-api', '/nope',
], '/nope');
const debugText: Gen = (c) => pick(c, ['', 'mydrv', '0', '1', 'x\n'], '');
const ns: Gen = (c) => c.rand(100_000);

/**
 * One callable: the name a DmaSimError must carry, its arguments' generators, and the call.
 * `after` records what a successful call made.
 */
interface Spec {
  readonly fn: string;
  readonly args: readonly Gen[];
  readonly call: (c: Ctx, a: unknown[]) => unknown;
  readonly after?: (c: Ctx, a: unknown[], r: unknown) => void;
  readonly weight?: number;
  /** The first argument is the object the method is called on: never replaced by garbage. */
  readonly self?: boolean;
}

const free = <T>(arr: T[], pred: (x: T) => boolean): void => {
  const i = arr.findIndex(pred);
  if (i >= 0) arr.splice(i, 1);
};

/** The exported DMA API functions: called as api[fn](...args). */
const API: Record<string, { args: readonly Gen[]; after?: Spec['after'] }> = {
  dma_supported: { args: [dev, mask] },
  dma_set_mask: { args: [dev, mask] },
  dma_set_coherent_mask: { args: [dev, mask] },
  dma_set_mask_and_coherent: { args: [dev, mask] },
  dma_coerce_mask_and_coherent: { args: [dev, mask] },
  dma_get_mask: { args: [dev] },
  dma_get_required_mask: { args: [dev] },
  dma_addressing_limited: { args: [dev] },
  dma_map_phys: { args: [dev, phys, bufLen, dir, attrs], after: (c, a, r) => c.maps.push({ dev: a[0] as Device, addr: r as number, size: a[2] as number, dir: a[3] as number }) },
  dma_unmap_phys: { args: [dev, handle, size, dir, attrs], after: (c, a) => free(c.maps, (x) => x.addr === a[1]) },
  dma_map_page: { args: [dev, page, (c) => c.rand(64) * 64, size, dir, attrs], after: (c, a, r) => c.maps.push({ dev: a[0] as Device, addr: r as number, size: a[3] as number, dir: a[4] as number }) },
  dma_unmap_page: { args: [dev, handle, size, dir, attrs], after: (c, a) => free(c.maps, (x) => x.addr === a[1]) },
  dma_map_single: { args: [dev, ptr, bufLen, dir, attrs], after: (c, a, r) => c.maps.push({ dev: a[0] as Device, addr: r as number, size: a[2] as number, dir: a[3] as number }) },
  dma_unmap_single: { args: [dev, handle, size, dir, attrs], after: (c, a) => free(c.maps, (x) => x.addr === a[1]) },
  dma_map_resource: { args: [dev, (c) => pick(c, [0x1000_0000, 0xfe00_0000, 0x8_0000_0000], 0x1000_0000), size, dir, attrs] },
  dma_unmap_resource: { args: [dev, handle, size, dir, attrs] },
  dma_mapping_error: { args: [dev, handle] },
  dma_map_sg: { args: [dev, sgl, nents, dir, attrs] },
  dma_unmap_sg: { args: [dev, sgl, nents, dir, attrs] },
  dma_map_sgtable: { args: [dev, sgt, dir, attrs] },
  dma_unmap_sgtable: { args: [dev, sgt, dir, attrs] },
  dma_sync_single_for_cpu: { args: [dev, handle, size, anyDir] },
  dma_sync_single_for_device: { args: [dev, handle, size, anyDir] },
  dma_sync_single_range_for_cpu: { args: [dev, handle, (c) => c.rand(128), size, dir] },
  dma_sync_single_range_for_device: { args: [dev, handle, (c) => c.rand(128), size, dir] },
  dma_sync_sg_for_cpu: { args: [dev, sgl, nents, dir] },
  dma_sync_sg_for_device: { args: [dev, sgl, nents, dir] },
  dma_sync_sgtable_for_cpu: { args: [dev, sgt, dir] },
  dma_sync_sgtable_for_device: { args: [dev, sgt, dir] },
  dma_need_sync: { args: [dev, handle] },
  dma_max_mapping_size: { args: [dev] },
  dma_opt_mapping_size: { args: [dev] },
  dma_get_max_seg_size: { args: [dev] },
  dma_get_seg_boundary: { args: [dev] },
  dma_get_min_align_mask: { args: [dev] },
  dma_get_cache_alignment: { args: [] },
  dma_alloc_attrs: { args: [dev, size, gfp, attrs], after: (c, a, r) => { if (r !== null) c.coherent.push({ dev: a[0] as Device, size: a[1] as number, ...(r as { cpu_addr: number; dma_handle: number }) }); } },
  dma_alloc_coherent: { args: [dev, size, gfp], after: (c, a, r) => { if (r !== null) c.coherent.push({ dev: a[0] as Device, size: a[1] as number, ...(r as { cpu_addr: number; dma_handle: number }) }); } },
  dma_free_attrs: { args: [(c) => coh(c).dev, (c) => coh(c).size, (c) => coh(c).cpu_addr, (c) => coh(c).dma_handle, attrs], after: (c, a) => free(c.coherent, (x) => x.cpu_addr === a[2]) },
  dma_free_coherent: { args: [(c) => coh(c).dev, (c) => coh(c).size, (c) => coh(c).cpu_addr, (c) => coh(c).dma_handle], after: (c, a) => free(c.coherent, (x) => x.cpu_addr === a[2]) },
  dma_alloc_pages: { args: [dev, size, dir, gfp] },
  dma_free_pages: { args: [dev, size, page, handle, dir] },
  dma_alloc_noncoherent: { args: [dev, size, dir, gfp] },
  dma_free_noncoherent: { args: [dev, size, ptr, handle, dir] },
  DMA_BIT_MASK: { args: [(c) => c.rand(70)] },
  sg_init_table: { args: [(c) => 1 + c.rand(4)] },
  sg_alloc_table: { args: [(c) => 1 + c.rand(4)] },
  sg_set_buf: { args: [sg, ptr, bufLen] },
  sg_set_page: { args: [sg, page, (c) => 64 + c.rand(4000), (c) => c.rand(64)] },
  sg_dma_address: { args: [sg] },
  sg_dma_len: { args: [sg] },
  sg_phys: { args: [sg] },
  dma_pool_create: { args: [(c) => pick(c, ['fz', 'pool'], 'fz'), dev, (c) => pick(c, [8, 64, 100, 4096], 64), (c) => pick(c, [0, 8, 64], 8), (c) => pick(c, [0, 4096], 0)], after: (c, _a, r) => { if (r !== null) c.pools.push(r as DmaPool); } },
  dma_pool_alloc: { args: [pool, gfp], after: (c, a, r) => { if (r !== null) c.blocks.push({ pool: a[0] as DmaPool, ...(r as { vaddr: number; dma: number }) }); } },
  dma_pool_zalloc: { args: [pool, gfp], after: (c, a, r) => { if (r !== null) c.blocks.push({ pool: a[0] as DmaPool, ...(r as { vaddr: number; dma: number }) }); } },
  dma_pool_free: { args: [(c) => block(c).pool, (c) => block(c).vaddr, (c) => block(c).dma], after: (c, a) => free(c.blocks, (x) => x.vaddr === a[1]) },
  dma_pool_destroy: { args: [pool], after: (c, a) => { free(c.pools, (x) => x === a[0]); c.blocks.splice(0, c.blocks.length, ...c.blocks.filter((b) => b.pool !== a[0])); } },
  dma_pools_show: { args: [dev] },
};

/** Machine, cpu, cache, debugfs and device methods: `fn` is the name their errors carry. */
const METHODS: Spec[] = [
  { fn: 'kmalloc', args: [size, gfp], call: (c, a) => c.m.kmalloc(a[0] as number, a[1] as number), after: (c, a, r) => { if ((r as number) > 16) c.bufs.push({ ptr: r as number, size: a[0] as number }); } },
  { fn: 'kzalloc', args: [size, gfp], call: (c, a) => c.m.kzalloc(a[0] as number, a[1] as number), after: (c, a, r) => { if ((r as number) > 16) c.bufs.push({ ptr: r as number, size: a[0] as number }); } },
  { fn: 'kfree', args: [ptr], call: (c, a) => c.m.kfree(a[0] as number), after: (c, a) => free(c.bufs, (b) => b.ptr === a[0]) },
  { fn: 'vmalloc', args: [size], call: (c, a) => c.m.vmalloc(a[0] as number), after: (c, _a, r) => { if (r !== 0) c.vbufs.push(r as number); } },
  { fn: 'vfree', args: [(c) => pick(c, c.vbufs, 0)], call: (c, a) => c.m.vfree(a[0] as number), after: (c, a) => free(c.vbufs, (v) => v === a[0]) },
  { fn: 'alloc_pages', args: [gfp, order], call: (c, a) => c.m.alloc_pages(a[0] as number, a[1] as number), after: (c, a, r) => { if (r !== null) c.pages.push({ page: r as Page, order: a[1] as number }); } },
  { fn: '__free_pages', args: [page, (c) => pick(c, c.pages, { page: 0 as Page, order: 0 }).order], call: (c, a) => c.m.__free_pages(a[0] as Page, a[1] as number), after: (c, a) => free(c.pages, (p) => p.page === a[0]) },
  { fn: 'page_address', args: [page], call: (c, a) => c.m.page_address(a[0] as Page) },
  { fn: 'virt_to_page', args: [ptr], call: (c, a) => c.m.virt_to_page(a[0] as number) },
  { fn: 'virt_to_phys', args: [ptr], call: (c, a) => c.m.virt_to_phys(a[0] as number) },
  { fn: 'phys_to_virt', args: [phys], call: (c, a) => c.m.phys_to_virt(a[0] as number) },
  { fn: 'page_to_phys', args: [page], call: (c, a) => c.m.page_to_phys(a[0] as Page) },
  { fn: 'stackAlloc', args: [size], call: (c, a) => c.m.stackAlloc(a[0] as number) },
  { fn: 'staticAlloc', args: [(c) => pick(c, ['text', 'rodata', 'data', 'bss'], 'data'), size], call: (c, a) => c.m.staticAlloc(a[0] as never, a[1] as number) },
  { fn: 'createDevice', args: [(c) => ({ name: `fz${c.devs.length}`, coherent: c.rand(2) === 0 })], call: (c, a) => c.m.createDevice(a[0] as never), after: (c, _a, r) => c.devs.push(r as Device), weight: 0.3 },
  { fn: 'unbind', args: [dev], call: (c, a) => c.m.unbind(a[0] as Device), weight: 0.2 },
  { fn: 'setLoad', args: [(c) => ({ evictionPressure: c.rand(3) / 10, speculation: c.rand(3) / 10 })], call: (c, a) => c.m.setLoad(a[0] as never) },
  { fn: 'isRam', args: [phys, size], call: (c, a) => c.m.isRam(a[0] as number, a[1] as number) },
  { fn: 'physToOffset', args: [phys, size], call: (c, a) => c.m.physToOffset(a[0] as number, a[1] as number) },
  { fn: 'translate', args: [ptr], call: (c, a) => c.m.translate(a[0] as number) },
  { fn: 'stats', args: [], call: (c) => c.m.stats() },
  { fn: 'cost', args: [], call: (c) => c.m.cost() },
  { fn: 'dmesg', args: [], call: (c) => c.m.dmesg() },
  { fn: 'now', args: [], call: (c) => c.m.now() },
  { fn: 'ndelay', args: [ns], call: (c, a) => c.m.ndelay(a[0] as number) },
  { fn: 'udelay', args: [ns], call: (c, a) => c.m.udelay(a[0] as number) },
  { fn: 'msleep', args: [(c) => c.rand(5)], call: (c, a) => c.m.msleep(a[0] as number) },
  { fn: 'schedule', args: [ns, () => (): void => undefined], call: (c, a) => c.m.schedule(a[0] as number, a[1] as () => void) },
  { fn: 'makeCurrent', args: [], call: (c) => c.m.makeCurrent() },
  { fn: 'cpu.read', args: [ptr, bufLen], call: (c, a) => c.m.cpu.read(a[0] as number, a[1] as number) },
  { fn: 'cpu.write', args: [ptr, bytes], call: (c, a) => c.m.cpu.write(a[0] as number, a[1] as Uint8Array) },
  { fn: 'cpu.fill', args: [ptr, bufLen, byte], call: (c, a) => c.m.cpu.fill(a[0] as number, a[1] as number, a[2] as number) },
  ...(['readb', 'readw', 'readl'] as const).map((f): Spec => ({ fn: `cpu.${f}`, args: [ptr], call: (c, a) => c.m.cpu[f](a[0] as number) })),
  ...(['writeb', 'writew', 'writel'] as const).map((f): Spec => ({ fn: `cpu.${f}`, args: [ptr, byte], call: (c, a) => c.m.cpu[f](a[0] as number, a[1] as number) })),
  ...(['mb', 'rmb', 'wmb', 'dma_rmb', 'dma_wmb'] as const).map((f): Spec => ({ fn: `cpu.${f}`, args: [], call: (c) => c.m.cpu[f]() })),
  ...(['clean', 'invalidate', 'cleanInvalidate'] as const).map((f): Spec => ({ fn: `cache.${f}`, args: [phys, bufLen], call: (c, a) => c.m.cache[f](a[0] as number, a[1] as number) })),
  { fn: 'cache.lineState', args: [phys], call: (c, a) => c.m.cache.lineState(a[0] as number) },
  { fn: 'debugfs.read', args: [debugPath], call: (c, a) => c.m.debugfs.read(a[0] as string) },
  { fn: 'debugfs.write', args: [debugPath, debugText], call: (c, a) => c.m.debugfs.write(a[0] as string, a[1] as string) },
  { fn: 'debugfs.list', args: [debugPath], call: (c, a) => c.m.debugfs.list(a[0] as string) },
  { fn: 'dmaRead', self: true, args: [dev, dma, size], call: (_c, a) => (a[0] as Device).dmaRead(a[1] as number, a[2] as number) },
  { fn: 'dmaWrite', self: true, args: [dev, dma, bytes], call: (_c, a) => (a[0] as Device).dmaWrite(a[1] as number, a[2] as Uint8Array) },
  { fn: 'dmaFill', self: true, args: [dev, dma, size, byte], call: (_c, a) => (a[0] as Device).dmaFill(a[1] as number, a[2] as number, a[3] as number) },
  { fn: 'runNic', args: [(c) => c.m, (c) => ({ packets: 1 + c.rand(4), ringSize: 2 + c.rand(6), packetSize: 60 + c.rand(1000) })], call: (_c, a) => workloads.runNic(a[0] as Machine, a[1] as never), weight: 0.03 },
  { fn: 'runDmapoolTest', args: [(c) => c.m, () => ({ iterations: 1 })], call: (_c, a) => workloads.runDmapoolTest(a[0] as Machine, a[1] as never), weight: 0.02 },
  { fn: 'runDemo', args: [(c) => ({ arch: pick(c, ['arm64', 'x86_64'] as const, 'arm64'), seed: c.rand(100) })], call: (_c, a) => workloads.runDemo(a[0] as never), weight: 0.01 },
  { fn: 'runBarrierSweep', args: [() => ({ entries: [1], entrySizes: [512], repetitions: 1 })], call: (_c, a) => workloads.runBarrierSweep(a[0] as never), weight: 0.02 },
  // A few hundred loops of simulated mapping (the loop budget ends the run early, keeping its results).
  {
    fn: 'runMapBenchmark',
    args: [(c) => c.m, (c) => ({ ...workloads.MAP_BENCHMARK_DEFAULTS, seconds: 1, threads: 1 + c.rand(2), granule: 1 + c.rand(4), dir: c.rand(3) })],
    call: (_c, a) => workloads.runMapBenchmark(a[0] as Machine, a[1] as never, { maxLoops: 200 }),
    weight: 0.02,
  },
  { fn: 'runDmatest', args: [(c) => c.m, (c) => ({ iterations: 1 + c.rand(3), test_buf_size: 64 << c.rand(6), polled: c.rand(2) === 1 })], call: (_c, a) => workloads.runDmatest(a[0] as Machine, a[1] as never), weight: 0.02 },
];

/** Exports that are not calls with arguments worth fuzzing here (classes, the engine's loader, constants). */
const NOT_CALLS = new Set(['createMachine', 'compileCore', 'Machine', 'Device', 'Cpu', 'Scatterlist', 'DmaPool', 'DmaDataCheck',
  'DmaSimError', 'DmaSimRangeError', 'DmaSimTypeError', 'DmaFaultError', 'KernelBug', 'DmaCoreFault', 'DebugfsError']);

const SPECS: Spec[] = [
  ...Object.entries(API).map(([fn, s]): Spec => ({ fn, args: s.args, call: (_c, a) => (api as unknown as Record<string, (...x: unknown[]) => unknown>)[fn]!(...a), ...(s.after ? { after: s.after } : {}) })),
  ...METHODS,
];

/** The errors a call may end in; anything else (a raw TypeError, a DmaCoreFault) is a finding. */
function allowed(e: unknown): boolean {
  return e instanceof DmaSimError || e instanceof DmaFaultError || e instanceof KernelBug || e instanceof DebugfsError;
}

const MACHINES: readonly api.MachineOptions[] = [
  { config: { DMA_API_DEBUG: true }, dataCheck: true },
  { arch: 'x86_64', config: { DMA_API_DEBUG: true }, cmdline: 'iommu.strict=0' },
  { cmdline: 'swiotlb=force', dataCheck: true, load: { evictionPressure: 0.1, speculation: 0.1, storeReordering: 0.5 } },
  { config: { DMA_API_DEBUG: true, ARCH_HAS_BATCHED_DMA_SYNC: true }, dataCheck: true, cache: { size: 65536, ways: 4 } },
];

let calls = 0;

/** An argument as a failure message shows it. */
function show(a: unknown): string {
  if (typeof a === 'bigint') return `${a}n`;
  if (typeof a === 'symbol' || typeof a === 'function') return typeof a;
  if (typeof a === 'object' && a !== null && !Array.isArray(a) && !ArrayBuffer.isView(a) && Object.getPrototypeOf(a) !== Object.prototype) return a.constructor.name;
  try {
    return String(JSON.stringify(a)).slice(0, 60);
  } catch {
    return String(a);
  }
}

async function runSequence(machine: number, iommuDev: boolean, seed: number, steps: readonly [number, number, number][]): Promise<void> {
  const m = await createMachine({ ...MACHINES[machine], seed });
  let x = seed >>> 0 || 1;
  const rand = (n: number): number => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
  const d0 = m.createDevice({ name: '0000:0a:00.0', driver: 'fuzz', ...(iommuDev ? { iommu: true } : {}) });
  api.dma_set_mask_and_coherent(d0, api.DMA_BIT_MASK(64));
  const c: Ctx = { m, devs: [d0], bufs: [], vbufs: [], pages: [], maps: [], coherent: [], sgls: [], pools: [], blocks: [], rand };
  for (let i = 0; i < 4; i++) {
    const p = m.kmalloc(256 << i, api.GFP_KERNEL);
    c.bufs.push({ ptr: p, size: 256 << i });
  }
  const sgl = api.sg_init_table(2);
  api.sg_set_buf(sgl[0]!, c.bufs[0]!.ptr, 256);
  api.sg_set_buf(sgl[1]!, c.bufs[1]!.ptr, 512);
  c.sgls.push({ sgl, n: 2 });
  for (const [which, bad, g] of steps) {
    const s = SPECS[which % SPECS.length]!;
    if (s.weight !== undefined && rand(1000) >= s.weight * 1000) continue;
    let args: unknown[];
    try {
      args = s.args.map((gen) => gen(c));
    } catch (e) {
      // Making a valid argument failed (no memory left for a scratch buffer): not a finding.
      if (allowed(e)) continue;
      throw e;
    }
    const first = s.self === true ? 1 : 0;
    if (bad >= 0 && args.length > first) args[first + (bad % (args.length - first))] = GARBAGE[g % GARBAGE.length];
    // Events already due run at any interleaving point: let them, so that only the call is judged.
    m.ndelay(0);
    const before = snapshot(m);
    let result: unknown;
    let err: unknown = null;
    try {
      result = s.call(c, args);
      if (result instanceof Promise) result = await result;
    } catch (e) {
      err = e;
    }
    calls++;
    const what = `${s.fn}(${args.map(show).join(', ')})`;
    if (err === null) {
      s.after?.(c, args, result);
      continue;
    }
    expect(err, what).not.toBeInstanceOf(DmaCoreFault);
    expect(allowed(err), `${what} threw ${String(err)}`).toBe(true);
    if (err instanceof DmaSimError) {
      expect((err as Error).message.startsWith(`${s.fn}: `), `${what}: ${(err as Error).message}`).toBe(true);
    }
    if (err instanceof DmaSimError) expect(changedSince(m, before), `${what}: ${(err as Error).message}`).toBeNull();
  }
}

test('every export and method is fuzzed', () => {
  const fuzzed = new Set(SPECS.map((s) => s.fn));
  const exported = Object.entries(api).filter(([, v]) => typeof v === 'function').map(([k]) => k).filter((k) => !NOT_CALLS.has(k));
  expect(exported.filter((k) => !fuzzed.has(k))).toEqual([]);
  const works = Object.entries(workloads).filter(([k, v]) => typeof v === 'function' && k.startsWith('run')).map(([k]) => k);
  expect(works.filter((k) => !fuzzed.has(k))).toEqual([]);
});

test('fuzz: documented errors only, naming the call, and nothing changed after a refusal', async () => {
  const step = fc.tuple(fc.nat(SPECS.length * 7), fc.integer({ min: -3, max: 6 }), fc.nat(GARBAGE.length * 3));
  await fc.assert(
    fc.asyncProperty(fc.nat(MACHINES.length - 1), fc.boolean(), fc.integer({ min: 1, max: 1e6 }), fc.array(step, { minLength: CALLS_PER_RUN / 2, maxLength: CALLS_PER_RUN }),
      async (machine, iommuDev, seed, steps) => runSequence(machine, iommuDev, seed, steps)),
    { seed: 13, numRuns: RUNS, endOnFailure: true },
  );
  console.log(`fuzz: ${calls} calls`);
}, 600_000);
