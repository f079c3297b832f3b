// The machine a workload command runs on: built from `--config <file.json>` (createMachine's own
// option names), then the command-line flags the user gave, then the flags' defaults; and the
// envelope every `--json` result carries (version, full configuration, seed, m.stats()).

import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { createMachine, type Machine, type MachineOptions, type Stats } from '../index.js';

/** A bad command line or configuration file: one line on stderr, exit 2. */
export class UsageError extends Error {}

declare const DMASIM_VERSION: string;
/** The package version, set by the build (scripts/build.mjs). */
export const VERSION: string = typeof DMASIM_VERSION === 'string' ? DMASIM_VERSION : '0.0.0-source';

/** An option parser for an integer in [lo, hi]. */
export function int(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?(?:\d+|0x[0-9a-f]+)$/i.test(v.trim()) || n < lo || n > hi) throw new InvalidArgumentError(`${name} must be an integer in ${lo}..${hi}`);
    return n;
  };
}

export function probability(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a probability in 0..1`);
    return n;
  };
}

/** A size with an optional K/M/G suffix (binary units): 4096, 64K, 1M, 0x100000. */
function size(name: string) {
  return (v: string): number => {
    const m = /^(0x[0-9a-f]+|\d+)([kmg]?)$/i.exec(v.trim());
    const n = m === null ? NaN : Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a size in bytes (e.g. 4096, 64K, 1M), got ${v}`);
    return n;
  };
}

/** `--ram base:size,...`: memblock banks. */
function banks(v: string): { base: number; size: number }[] {
  return v.split(',').map((bank) => {
    const [base, sz, extra] = bank.split(':');
    if (base === undefined || sz === undefined || extra !== undefined) throw new InvalidArgumentError(`--ram takes base:size banks separated by commas (e.g. 0x40000000:64M), got ${bank}`);
    return { base: int('--ram base', 0, Number.MAX_SAFE_INTEGER)(base), size: size('--ram size')(sz) };
  });
}

/** `--cost dsbNs=100,dcLineNs=2`: parameters of the cost model. */
function costs(v: string): Record<string, number> {
  return Object.fromEntries(v.split(',').map((kv) => {
    const [k, n, extra] = kv.split('=');
    const x = Number(n);
    if (k === undefined || n === undefined || extra !== undefined || n.trim() === '' || !Number.isFinite(x)) {
      throw new InvalidArgumentError(`--cost takes name=ns pairs separated by commas (e.g. dsbNs=100), got ${kv}`);
    }
    return [k.trim(), x];
  }));
}

export interface MachineFlags {
  config?: string;
  arch: 'arm64' | 'x86_64';
  seed: number;
  cmdline: string;
  ram?: { base: number; size: number }[];
  cacheSize?: number;
  cacheWays?: number;
  cacheLine?: number;
  cacheReplacement?: 'lru' | 'random';
  cost?: Record<string, number>;
  debug: boolean;
  perBuffer: boolean;
  evictionPressure: number;
  speculation: number;
  storeReordering: number;
  dataCheck: boolean;
  json: boolean;
  trace?: string;
}

/** The options every workload's machine takes. */
export function machineOptions(cmd: Command): Command {
  return cmd
    .option('--config <file.json>', "createMachine's options as JSON (arch, ram, cache, config, cmdline, seed, load, costModel, dataCheck); flags given override it")
    .addOption(new Option('--arch <arch>', 'machine architecture').choices(['arm64', 'x86_64']).default('arm64'))
    .option('--seed <n>', 'seed of every random choice', int('--seed', 0, 0xffff_ffff), 1)
    .option('--cmdline <text>', 'kernel command line (e.g. "swiotlb=2048")', '')
    .option('--ram <banks>', 'memblock banks, base:size,... (default 0x40000000:64M,0x100000000:64M)', banks)
    .option('--cache-size <bytes>', 'CPU data cache size, a power of two (default 1M)', size('--cache-size'))
    .option('--cache-ways <n>', 'cache associativity, a power of two up to 32 (default 16)', int('--cache-ways', 1, 32))
    .option('--cache-line <bytes>', "cache line size, 16..256 (default: the arch's)", int('--cache-line', 16, 256))
    .addOption(new Option('--cache-replacement <policy>', 'cache replacement policy (default lru)').choices(['lru', 'random']))
    .option('--cost <params>', 'cost-model parameters in ns, name=value,... (dcLineNs, dsbNs, mapNs, copyByteNs, writeBackNs, iommuMapNs, iotlbFlushNs)', costs)
    .option('--debug', 'build with CONFIG_DMA_API_DEBUG', false)
    .option('--per-buffer', 'one DSB per cache operation, as before Linux 7.1 (7.1 batches: one DSB per list)', false)
    .option('--eviction-pressure <p>', 'random evictions per CPU line access', probability('--eviction-pressure'), 0)
    .option('--speculation <p>', 'speculative line fills per CPU line access', probability('--speculation'), 0)
    .option('--store-reordering <p>', 'uncached stores a device may see before a barrier', probability('--store-reordering'), 0)
    .option('--data-check', 'report each access that breaks DMA ownership, at the access', false)
    .option('--trace <file.json>', 'write a timeline of the run for ui.perfetto.dev (Chrome trace-event JSON)')
    .option('--json', 'machine-readable output', false);
}

const FILE_KEYS = ['arch', 'ram', 'cache', 'config', 'cmdline', 'seed', 'load', 'costModel', 'dataCheck'] as const;

/** createMachine's options from a JSON file; its values are checked by createMachine itself. */
function readConfigFile(path: string): MachineOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path}: not JSON (${(e as Error).message})`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError(`--config ${path}: must hold a JSON object of createMachine options`);
  for (const k of Object.keys(o)) {
    if (!(FILE_KEYS as readonly string[]).includes(k)) throw new UsageError(`--config ${path}: unknown option ${k} (createMachine takes ${FILE_KEYS.join(', ')})`);
  }
  return o as MachineOptions;
}

/** Options from the file, overridden by the flags the user typed, completed by the flags' defaults. */
export function machineOptionsOf(f: MachineFlags, cmd: Command): MachineOptions {
  const file = f.config === undefined ? {} : readConfigFile(f.config);
  const typed = (name: keyof MachineFlags): boolean => cmd.getOptionValueSource(name) === 'cli';
  const pick = <T>(name: keyof MachineFlags, fromFile: T | undefined, flag: T): T => (typed(name) || fromFile === undefined ? flag : fromFile);
  const cache = {
    ...file.cache,
    ...(f.cacheSize === undefined ? {} : { size: f.cacheSize }),
    ...(f.cacheWays === undefined ? {} : { ways: f.cacheWays }),
    ...(f.cacheLine === undefined ? {} : { lineSize: f.cacheLine }),
    ...(f.cacheReplacement === undefined ? {} : { replacement: f.cacheReplacement }),
  };
  const arch = pick('arch', file.arch, f.arch);
  return {
    arch,
    seed: pick('seed', file.seed, f.seed),
    cmdline: pick('cmdline', file.cmdline, f.cmdline),
    ...(f.ram ?? file.ram ? { ram: f.ram ?? file.ram } : {}),
    ...(Object.keys(cache).length > 0 ? { cache } : {}),
    config: {
      DMA_API_DEBUG: pick('debug', file.config?.DMA_API_DEBUG, f.debug),
      // Only arm64 has DMA cache maintenance whose barriers can be batched.
      ARCH_HAS_BATCHED_DMA_SYNC: pick('perBuffer', file.config?.ARCH_HAS_BATCHED_DMA_SYNC, !f.perBuffer && arch === 'arm64'),
    },
    load: {
      evictionPressure: pick('evictionPressure', file.load?.evictionPressure, f.evictionPressure),
      speculation: pick('speculation', file.load?.speculation, f.speculation),
      storeReordering: pick('storeReordering', file.load?.storeReordering, f.storeReordering),
    },
    ...(f.cost ?? file.costModel ? { costModel: { ...file.costModel, ...f.cost } } : {}),
    dataCheck: pick('dataCheck', file.dataCheck, f.dataCheck),
  };
}

/** A DmaSimError from checking what the user typed is a usage error (exit 2); anything else is not. */
export function asUsage(e: unknown): unknown {
  return e instanceof Error && e.name === 'DmaSimError' ? new UsageError(e.message) : e;
}

/** Checks options with a library validator (src/workloads/options.ts): its refusal is a usage error. */
export function validated<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw asUsage(e);
  }
}

/** Boots the machine; an option createMachine refuses is a usage error (exit 2). */
export async function bootMachine(opts: MachineOptions): Promise<Machine> {
  try {
    return await createMachine(opts);
  } catch (e) {
    throw asUsage(e);
  }
}

/** The machine's whole configuration, defaults included, in createMachine's terms. */
export function configurationOf(m: Machine, opts: MachineOptions): Required<Omit<MachineOptions, 'core'>> {
  return {
    arch: m.arch.name,
    ram: m.memblock.memory.map((b) => ({ base: b.base, size: b.size })),
    cache: { ...m.cacheConfig },
    config: { ...m.config },
    cmdline: opts.cmdline ?? '',
    seed: m.seed,
    load: { evictionPressure: 0, speculation: 0, storeReordering: 0, ...opts.load },
    costModel: { ...m.costModel.params },
    dataCheck: m.dataCheck !== null,
  };
}

export interface JsonEnvelope {
  dmasim: string;
  command: string;
  seed: number;
  configuration: Required<Omit<MachineOptions, 'core'>>;
  stats: Stats;
}

/** What every `--json` result of a command that ran on a machine starts with. */
export function envelope(command: string, m: Machine, opts: MachineOptions): JsonEnvelope {
  return { dmasim: VERSION, command, seed: m.seed, configuration: configurationOf(m, opts), stats: m.stats() };
}
