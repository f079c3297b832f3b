// `dmasim check <module>`: the driver checker on the command line. Exit 0 clean, 1 findings,
// 2 usage (one line, no stack trace).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkDriver, CheckUsageError, formatReport, type CheckOptions } from '../checker/index.js';
import { VERSION } from './machine-options.js';
import { progressBar } from './progress.js';

interface CheckFlags {
  seeds?: string;
  seed?: string;
  jobs?: string;
  matrix: string[];
  only?: string;
  config?: string;
  timeout?: string;
  dmesg?: boolean;
  json?: boolean;
}

/** The keys of a --config file: the command's own options. */
const CONFIG_KEYS = ['seeds', 'seed', 'jobs', 'matrix', 'only', 'timeout', 'dmesg', 'json'];

/** A whole number from an option's text (range checks are checkDriver's). */
function wholeNumber(name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new CheckUsageError(`${name} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** The options of a --config file, as `dim=values` matrix settings and plain values. */
function readConfig(path: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckUsageError(`--config ${path}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckUsageError(`--config ${path}: must hold a JSON object`);
  const bad = Object.keys(json).find((k) => !CONFIG_KEYS.includes(k));
  if (bad !== undefined) throw new CheckUsageError(`--config ${path}: unknown key "${bad}" (known: ${CONFIG_KEYS.join(', ')})`);
  const o = json as Record<string, unknown>;
  const m = o['matrix'];
  if (m !== undefined && !Array.isArray(m)) {
    if (typeof m !== 'object' || m === null) throw new CheckUsageError(`--config ${path}: matrix must be an object of dimension: [values] or a list of "dimension=values"`);
    o['matrix'] = Object.entries(m).map(([d, v]) => `${d}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  }
  return o;
}

/** The file's options, then the command line's over them. */
function options(f: CheckFlags, cmd: Command): CheckOptions & { json: boolean } {
  const file = f.config === undefined ? {} : readConfig(f.config);
  const given = (k: keyof CheckFlags): unknown => (cmd.getOptionValueSource(k) === 'cli' ? f[k] : file[k]);
  const num = (k: 'seeds' | 'seed' | 'jobs' | 'timeout'): number | undefined => {
    const v = given(k);
    return v === undefined ? undefined : wholeNumber(`--${k}`, v);
  };
  const seeds = num('seeds');
  const seed = num('seed');
  const jobs = num('jobs');
  const timeoutMs = num('timeout');
  const only = given('only');
  return {
    ...(seeds === undefined ? {} : { seeds }),
    ...(seed === undefined ? {} : { seed }),
    ...(jobs === undefined ? {} : { jobs }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(only === undefined ? {} : { only: String(only) }),
    matrix: [...((file['matrix'] as string[] | undefined) ?? []), ...f.matrix],
    dmesg: given('dmesg') === true,
    json: given('json') === true,
  };
}

async function check(module: string, f: CheckFlags, cmd: Command): Promise<number> {
  let o: CheckOptions & { json: boolean };
  try {
    o = options(f, cmd);
  } catch (e) {
    if (!(e instanceof CheckUsageError)) throw e;
    process.stderr.write(`dmasim: ${e.message}\n`);
    return 2;
  }
  const bar = progressBar(!o.json);
  try {
    const r = await checkDriver(module, { ...o, onProgress: (done, total) => bar.update(done / total) });
    bar.stop();
    const json = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);
    process.stdout.write(o.json ? `${JSON.stringify({ dmasim: VERSION, command: 'check', ...r }, json)}\n` : `${formatReport(r).join('\n')}\n`);
    return r.exitCode;
  } catch (e) {
    bar.stop();
    if (!(e instanceof CheckUsageError)) throw e;
    process.stderr.write(`dmasim: ${e.message}\n`);
    return 2;
  }
}

/** Adds `check` to the dmasim command. */
export function checkCommand(root: Command, setExit: (code: number) => void): void {
  root.command('check')
    .description('run a driver module on every machine it could meet (platforms, DMA paths, IOMMU modes, load) with dma-debug and the data-aware checker, and say what breaks')
    .argument('<module>', 'a .mjs, .js or .ts module whose default export is async (m, ctx) => void')
    .option('--seeds <n>', 'seeds per configuration, 1..n (default 1)')
    .option('--seed <n>', 'run this seed only (a replay)')
    .option('--jobs <n>', 'worker threads (default: the number of cores)')
    .option('--matrix <dim=values>', 'narrow or widen one dimension, repeatable: platform=arm64,arm64-coherent,x86_64 dma=direct,bounce,swiotlb-force iommu=none,strict,lazy,untrusted,passthrough load=off,on sync=batched,per-buffer (=all: every value)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--only <configuration>', 'run one configuration, e.g. arm64/direct/iommu-none/load-off')
    .option('--config <file.json>', 'the same options from a JSON file; the command line wins')
    .option('--timeout <ms>', 'time budget of each run (default 30000)')
    .option('--dmesg', 'print the kernel log of every run (for a replay)')
    .option('--json', 'the whole result as JSON')
    .action(async (module: string, f: CheckFlags, cmd: Command) => setExit(await check(module, f, cmd)));
}
