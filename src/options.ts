// createMachine()'s options (MachineOptions) and their resolution: every option is checked and
// defaulted here, before any memory is created, so nothing below the composition root
// (machine.ts) can fail on bad input.

import type { Arch } from './arch/arch.js';
import { arm64 } from './arch/arm64.js';
import { x86_64 } from './arch/x86_64.js';
import { COST_PARAMS, type CostParams } from './arch/cost.js';
import type { CoreSource } from './engine/core.js';
import type { BankSpec } from './engine/layout.js';
import type { KernelConfig } from './include/kconfig.js';
import { MAX_WAYS } from '../assembly/abi.js';
import { DmaSimRangeError, DmaSimTypeError } from './lib/errors.js';
import { checkAddr, checkBool, checkIntIn, checkPowerOfTwo, checkSize, checkString, checkOptions } from './lib/validate.js';
import { KIMAGE_BYTES } from './mm/kimage.js';
import { PAGE_SIZE, PHYS_ADDR_LIMIT } from './mm/memory.js';

export interface CacheOptions {
  /** Bytes of data the cache holds (a power of two). Default 1 MiB. */
  size?: number;
  /** Associativity, 1..32 (a power of two). Default 16. */
  ways?: number;
  /** Line size in bytes (a power of two, 16..256). Default: the arch's L1_CACHE_BYTES. */
  lineSize?: number;
  replacement?: 'lru' | 'random';
}

/** "Under load": probabilities per cached CPU line access, 0..1, all off by default. */
export interface LoadOptions {
  /** A random cache line is evicted (written back if dirty), as other work would. */
  evictionPressure?: number;
  /** A random line of the page being touched is speculatively filled from RAM. */
  speculation?: number;
  /**
   * Stores to uncached (coherent DMA) memory wait in a store buffer until a barrier; a device
   * access commits each waiting store with this probability, in a random order. Makes a missing
   * wmb()/dma_wmb() between two descriptor words visible.
   */
  storeReordering?: number;
  /**
   * A CPU load from memory is satisfied early with this probability: it returns the bytes as
   * they were at the last read barrier (dma_rmb(), rmb(), mb(), readl()'s __iormb()), before
   * the device writes made since. Makes a missing dma_rmb() between a status and a descriptor
   * field visible.
   */
  loadReordering?: number;
}

export interface MachineOptions {
  arch?: 'arm64' | 'x86_64';
  ram?: readonly BankSpec[];
  cache?: CacheOptions;
  config?: KernelConfig;
  cmdline?: string;
  seed?: number;
  load?: LoadOptions;
  /** Parameters of the simulated-time model behind m.cost() (defaults per arch, see cost.ts). */
  costModel?: Partial<CostParams>;
  /** The engine to run instead of the one the package carries: a compiled WebAssembly.Module, its bytes, or an http(s) URL. */
  core?: CoreSource;
  /**
   * The data-aware DMA checker (src/dma-data-check.ts), off by default: reports CPU accesses to
   * device-owned buffers, stale CPU reads, write-backs over DMA data and stale device reads at
   * the access that goes wrong (m.dataCheck.reports, and the kernel log).
   */
  dataCheck?: boolean;
}

const ARCHES: Readonly<Record<string, Arch>> = { arm64, x86_64 };
const DEFAULT_RAM: readonly BankSpec[] = [
  { base: 0x4000_0000, size: 64 << 20 },
  { base: 0x1_0000_0000, size: 64 << 20 },
];
const KNOWN_CONFIG = new Set(['DMA_API_DEBUG', 'ARCH_HAS_BATCHED_DMA_SYNC']);

/** A validated, normalised set of options: nothing below can fail on bad input. */
export interface ResolvedOptions {
  readonly arch: Arch;
  readonly banks: readonly BankSpec[];
  readonly cache: Required<CacheOptions>;
  readonly config: Required<KernelConfig>;
  readonly cmdline: string;
  readonly seed: number;
  readonly load: Required<LoadOptions>;
  readonly costModel: Partial<CostParams>;
  readonly dataCheck: boolean;
}

function resolveBanks(ram: unknown): BankSpec[] {
  const fn = 'createMachine';
  if (!Array.isArray(ram) || ram.length === 0) throw new DmaSimTypeError(fn, 'ram', 'must be a non-empty array of { base, size } banks');
  const banks = ram.map((b: Partial<BankSpec>, i): BankSpec => {
    const base = checkAddr(fn, `ram[${i}].base`, b?.base);
    const size = checkSize(fn, `ram[${i}].size`, b?.size);
    if (size === 0) throw new DmaSimRangeError(fn, `ram[${i}].size`, 'must not be 0');
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) throw new DmaSimRangeError(fn, `ram[${i}]`, `must be page-aligned (${PAGE_SIZE} bytes)`);
    if (base + size > PHYS_ADDR_LIMIT) throw new DmaSimRangeError(fn, `ram[${i}]`, 'must end below 2^48 (the largest arm64 physical address)');
    return { base, size };
  });
  banks.sort((a, b) => a.base - b.base);
  for (let i = 1; i < banks.length; i++) {
    const prev = banks[i - 1] as BankSpec;
    const cur = banks[i] as BankSpec;
    if (cur.base < prev.base + prev.size) {
      throw new DmaSimRangeError(fn, 'ram', `banks overlap: [0x${prev.base.toString(16)}, +0x${prev.size.toString(16)}) and [0x${cur.base.toString(16)}, +0x${cur.size.toString(16)})`);
    }
  }
  const first = banks[0] as BankSpec;
  if (first.size < KIMAGE_BYTES * 2) throw new DmaSimRangeError(fn, 'ram[0].size', `must be at least ${KIMAGE_BYTES * 2} bytes: the kernel image lives in the lowest bank`);
  return banks;
}

function resolveCache(c: CacheOptions | undefined, arch: Arch): Required<CacheOptions> {
  const fn = 'createMachine';
  if (c !== undefined && (typeof c !== 'object' || c === null)) throw new DmaSimTypeError(fn, 'cache', 'must be an object');
  const lineSize = checkPowerOfTwo(fn, 'cache.lineSize', c?.lineSize ?? arch.lineSize, 16, 256);
  const ways = checkPowerOfTwo(fn, 'cache.ways', c?.ways ?? 16, 1, MAX_WAYS);
  const size = checkPowerOfTwo(fn, 'cache.size', c?.size ?? 1 << 20, lineSize * ways, 1 << 30);
  const replacement = c?.replacement ?? 'lru';
  if (replacement !== 'lru' && replacement !== 'random') throw new DmaSimRangeError(fn, 'cache.replacement', `must be 'lru' or 'random', got ${String(replacement)}`);
  return { size, ways, lineSize, replacement };
}

function resolveConfig(config: KernelConfig | undefined): Required<KernelConfig> {
  const fn = 'createMachine';
  if (config !== undefined && (typeof config !== 'object' || config === null)) throw new DmaSimTypeError(fn, 'config', 'must be an object of Kconfig options');
  for (const key of Object.keys(config ?? {})) {
    if (!KNOWN_CONFIG.has(key)) throw new DmaSimRangeError(fn, `config.${key}`, `is not an option dmasim knows (known: ${[...KNOWN_CONFIG].join(', ')})`);
  }
  return {
    DMA_API_DEBUG: checkBool(fn, 'config.DMA_API_DEBUG', config?.DMA_API_DEBUG ?? false),
    ARCH_HAS_BATCHED_DMA_SYNC: checkBool(fn, 'config.ARCH_HAS_BATCHED_DMA_SYNC', config?.ARCH_HAS_BATCHED_DMA_SYNC ?? false),
  };
}

function checkProbability(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') throw new DmaSimTypeError(fn, arg, `must be a number, got ${typeof v}`);
  if (!(v >= 0 && v <= 1)) throw new DmaSimRangeError(fn, arg, `must be a probability in 0..1, got ${v}`);
  return v;
}

const LOAD_KNOBS = ['evictionPressure', 'speculation', 'storeReordering', 'loadReordering'] as const;

export function resolveLoad(fn: string, load: LoadOptions | undefined): Required<LoadOptions> {
  checkOptions(fn, 'load', load, LOAD_KNOBS);
  return {
    evictionPressure: checkProbability(fn, 'load.evictionPressure', load?.evictionPressure ?? 0),
    speculation: checkProbability(fn, 'load.speculation', load?.speculation ?? 0),
    storeReordering: checkProbability(fn, 'load.storeReordering', load?.storeReordering ?? 0),
    loadReordering: checkProbability(fn, 'load.loadReordering', load?.loadReordering ?? 0),
  };
}

export function resolveOptions(opts: MachineOptions): ResolvedOptions {
  const fn = 'createMachine';
  if (typeof opts !== 'object' || opts === null) throw new DmaSimTypeError(fn, 'options', 'must be an object');
  const arch = ARCHES[opts.arch ?? 'arm64'];
  if (arch === undefined) throw new DmaSimRangeError(fn, 'arch', `must be 'arm64' or 'x86_64', got ${String(opts.arch)}`);
  return {
    arch,
    banks: resolveBanks(opts.ram ?? DEFAULT_RAM),
    cache: resolveCache(opts.cache, arch),
    config: resolveConfig(opts.config),
    cmdline: checkString(fn, 'cmdline', opts.cmdline === undefined ? '' : opts.cmdline),
    seed: checkIntIn(fn, 'seed', opts.seed ?? 1, 0, 0xffff_ffff),
    load: resolveLoad(fn, opts.load),
    costModel: resolveCostModel(opts.costModel),
    dataCheck: checkBool(fn, 'dataCheck', opts.dataCheck ?? false),
  };
}

function resolveCostModel(c: unknown): Partial<CostParams> {
  const fn = 'createMachine';
  if (c === undefined) return {};
  if (typeof c !== 'object' || c === null) throw new DmaSimTypeError(fn, 'costModel', 'must be an object of cost parameters');
  for (const [k, v] of Object.entries(c)) {
    if (!COST_PARAMS.includes(k)) throw new DmaSimRangeError(fn, `costModel.${k}`, `is not a cost parameter (known: ${COST_PARAMS.join(', ')})`);
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new DmaSimRangeError(fn, `costModel.${k}`, `must be a non-negative number of ns, got ${String(v)}`);
  }
  return c as Partial<CostParams>;
}
