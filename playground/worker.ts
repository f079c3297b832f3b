// Runs a playground program against dmasim in a worker, so that a program that loops forever
// cannot freeze the page (the page terminates the worker). Every DMA API call is a step: after
// each one the worker records what the page draws (the cache lines of the buffers in use, the
// swiotlb slots, the IOMMU mappings, the kernel log, the data-check reports); a program past the
// step budget is stopped with an error.

import * as dmasim from '../src/index.js';
import type { Device, Machine, MachineOptions } from '../src/index.js';

export interface LineView { readonly state: 'invalid' | 'clean' | 'dirty'; readonly device: boolean }
export interface BufferView { readonly label: string; readonly phys: number; readonly size: number; readonly lines: readonly LineView[] }
export interface Snapshot {
  readonly call: string;
  readonly buffers: readonly BufferView[];
  readonly swiotlb: { readonly nslabs: number; readonly used: readonly number[] } | null;
  readonly iommu: readonly string[];
  readonly dmesg: readonly string[];
  readonly reports: readonly string[][];
}
export interface RunResult {
  readonly steps: readonly Snapshot[];
  readonly console: readonly string[];
  readonly error: string | null;
  readonly trace: unknown;
}

/** Calls a program may make before it is stopped. */
const STEP_BUDGET = 2000;
/** Lines drawn per buffer, and swiotlb slots. */
const MAX_LINES = 64;
const MAX_SLOTS = 512;

interface Buffer { dev: Device; dma: number; phys: number; size: number; call: string; device: boolean; iommu: boolean }

function run(code: string): Promise<RunResult> {
  const steps: Snapshot[] = [];
  const out: string[] = [];
  const live: Buffer[] = [];
  let m: Machine | null = null;

  const snapshot = (call: string): Snapshot => {
    if (m === null) return { call, buffers: [], swiotlb: null, iommu: [], dmesg: [], reports: [] };
    const mm = m;
    const ls = mm.cache.lineSize;
    const buffers = live.map((b) => {
      const first = b.phys - (b.phys % ls);
      const n = Math.min(MAX_LINES, Math.ceil((b.phys + b.size - first) / ls));
      return {
        label: `${b.call} ${b.dev.name} dma=0x${b.dma.toString(16)} size=${b.size}`,
        phys: b.phys,
        size: b.size,
        lines: Array.from({ length: n }, (_, i) => ({ state: mm.cache.lineState(first + i * ls), device: b.device })),
      };
    });
    const s = mm.swiotlb;
    const swiotlb = s === null ? null : {
      nslabs: s.nslabs,
      used: Array.from({ length: Math.min(MAX_SLOTS, s.nslabs) }, (_, i) => i).filter((i) => (s.origAddr[i] as number) !== -1),
    };
    return {
      call, buffers, swiotlb,
      iommu: live.filter((b) => b.iommu).map((b) => `${b.dev.name}: IOVA 0x${b.dma.toString(16)} -> phys 0x${b.phys.toString(16)} (${b.size} B)`),
      dmesg: mm.dmesg().slice(-200),
      reports: (mm.dataCheck?.reports ?? []).map((r) => [...r.lines]),
    };
  };

  /** Calls in progress: what a DMA API call does inside (a bounce's CPU copy) is not a step. */
  let depth = 0;
  /** `fn` as a step: run it, then record the state, under `label`. */
  const stepped = (label: string, fn: (...a: unknown[]) => unknown, after?: (args: unknown[], r: unknown) => void) => (...args: unknown[]) => {
    if (depth > 0) return fn(...args);
    if (steps.length >= STEP_BUDGET) throw new Error(`step budget exceeded: more than ${STEP_BUDGET} steps`);
    depth++;
    let r: unknown;
    try {
      r = fn(...args);
    } finally {
      depth--;
    }
    after?.(args, r);
    steps.push(snapshot(`${label}(${args.map(show).join(', ')})${r === undefined ? '' : ` = ${show(r)}`}`));
    return r;
  };
  /** The methods of `obj` named in `names` become steps. */
  const stepMethods = (obj: object, prefix: string, names: readonly string[]): void => {
    const o = obj as Record<string, (...a: unknown[]) => unknown>;
    for (const k of names) if (typeof o[k] === 'function') o[k] = stepped(`${prefix}${k}`, (o[k] as (...a: unknown[]) => unknown).bind(obj));
  };

  const api: Record<string, unknown> = { ...dmasim };
  api.createMachine = async (opts: MachineOptions = {}) => {
    const mm = await dmasim.createMachine({ dataCheck: true, ...opts });
    m = mm;
    mm.trace.start();
    stepMethods(mm.cpu, 'm.cpu.', ['read', 'write', 'fill', 'readb', 'readw', 'readl', 'writeb', 'writew', 'writel', 'wmb', 'rmb', 'mb', 'dma_wmb', 'dma_rmb']);
    const createDevice = mm.createDevice.bind(mm);
    mm.createDevice = (o) => {
      const dev = createDevice(o);
      stepMethods(dev, 'dev.', ['dmaRead', 'dmaWrite', 'dmaFill']);
      return dev;
    };
    steps.push(snapshot('createMachine'));
    return mm;
  };
  // Every DMA API call is a step; the calls that make or end a mapping keep the list of buffers.
  for (const [name, fn] of Object.entries(dmasim)) {
    if (!name.startsWith('dma_') || typeof fn !== 'function') continue;
    api[name] = stepped(name, fn as (...a: unknown[]) => unknown, (args, r) => follow(name, args, r));
  }

  const follow = (name: string, args: unknown[], r: unknown): void => {
    const dev = args[0] as Device;
    const mm = m as Machine;
    const find = (dma: unknown) => live.findIndex((b) => b.dev === dev && b.dma === dma);
    if ((name === 'dma_map_single' || name === 'dma_map_phys') && r !== dmasim.DMA_MAPPING_ERROR) {
      const phys = name === 'dma_map_single' ? mm.virt_to_phys(args[1] as number) : (args[1] as number);
      live.push({ dev, dma: r as number, phys, size: args[2] as number, call: name, device: true, iommu: dev.dma_iommu });
    } else if (name === 'dma_unmap_single' || name === 'dma_unmap_phys') {
      const i = find(args[1]);
      if (i >= 0) live.splice(i, 1);
    } else if (name === 'dma_sync_single_for_cpu' || name === 'dma_sync_single_for_device') {
      const b = live[find(args[1])];
      if (b !== undefined) b.device = name.endsWith('device');
    } else if ((name === 'dma_alloc_coherent' || name === 'dma_alloc_attrs') && r !== null) {
      const c = r as { cpu_addr: number; dma_handle: number };
      live.push({ dev, dma: c.dma_handle, phys: mm.virt_to_phys(c.cpu_addr), size: args[1] as number, call: name, device: false, iommu: dev.dma_iommu });
    }
  };

  api.console = { ...console, log: (...a: unknown[]) => { out.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)))).join(' ')); } };
  const names = Object.keys(api);
  const body = code.replace(/^\s*import\s[^;]*from\s*['"]dmasim['"];?\s*$/gm, '');
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...a: string[]) => (...v: unknown[]) => Promise<void>;
  const finish = (error: string | null): RunResult => {
    steps.push(snapshot(error === null ? 'end' : 'stopped'));
    return { steps, console: out, error, trace: m?.trace.stop() ?? null };
  };
  let program: (...v: unknown[]) => Promise<void>;
  try {
    program = new AsyncFunction(...names, body);
  } catch (e) {
    return Promise.resolve(finish(`SyntaxError: ${(e as Error).message}`));
  }
  return program(...names.map((n) => api[n])).then(() => finish(null), (e: unknown) => finish(e instanceof Error ? `${e.name}: ${e.message}` : String(e)));
}

function show(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) > 4096 ? `0x${v.toString(16)}` : String(v);
  if (typeof v === 'bigint') return `0x${v.toString(16)}n`;
  if (v instanceof dmasim.Device) return v.name;
  if (v === null) return 'null';
  if (typeof v === 'object') return '{...}';
  return String(v);
}

self.onmessage = async (e: MessageEvent<{ code: string }>) => {
  (self as unknown as Worker).postMessage(await run(e.data.code));
};
