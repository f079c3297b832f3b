// dmasim/check: run a driver on every machine it could meet and say what breaks.
//
// checkDriver(modulePath) loads the module in worker threads (a tinypool pool, `jobs` of them)
// and runs its default export once per configuration and seed, each on a fresh machine with
// dma-debug and the data-aware checker on; checkDriver(fn) runs a function in this thread, one
// run after another. Findings are deduplicated by kind and by the driver's line, and each comes
// with its smallest reproducer: one configuration, one seed, and the command that replays it.

import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import {
  CheckUsageError, configurationName, configurations, defaultMatrix, devicePlatform, DIMENSION_NAMES, DIMENSIONS, machineOptions, narrowMatrix, parseConfiguration,
  type Configuration, type Matrix,
} from './matrix.js';
import { runConfiguration, verdictOf, VERDICTS, type DriverFn, type Finding, type FindingKind, type RunResult, type Verdict } from './run.js';
import { siteLabel, siteSource, type Site } from './site.js';
import type { ProbeResult, WorkerTask } from './worker.js';

export { CheckUsageError, DIMENSIONS, configurationName, parseConfiguration, VERDICTS };
export type { Configuration, DriverFn, Finding, FindingKind, Matrix, RunResult, Site, Verdict };
export type { DriverContext } from './run.js';
export { formatReport } from './report.js';

export interface CheckOptions {
  /** Seeds per configuration: 1..seeds (default 1). */
  readonly seeds?: number;
  /** Run this seed only (a replay). */
  readonly seed?: number;
  /** `dim=v1,v2` settings over the default matrix (see DIMENSIONS), or a whole matrix. */
  readonly matrix?: readonly string[] | Matrix;
  /** Run this configuration only (its name, e.g. `arm64/direct/iommu-none/load-off`). */
  readonly only?: string;
  /** Worker threads for a module path (default: the number of cores). */
  readonly jobs?: number;
  /** Per-run time budget in ms (default 30 s): a driver still running then is a 'timeout' finding. */
  readonly timeoutMs?: number;
  /** Keep each run's kernel log (RunResult.dmesg). */
  readonly dmesg?: boolean;
  /** Called after each run with the number done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** How the module is named in replay commands (default: the path as given). */
  readonly commandName?: string;
}

/** One configuration's line of the result table: its worst run over the seeds. */
export interface TableRow {
  readonly configuration: string;
  readonly verdict: Verdict;
  /** Seeds whose run was not clean, of those run. */
  readonly failingSeeds: number;
  readonly seeds: number;
  /** The first line of the report behind the verdict, and where the driver made the call. */
  readonly line: string;
  readonly site: string;
}

/** One finding, deduplicated over every run that had it. */
export interface CheckFinding {
  readonly kind: FindingKind;
  readonly line: string;
  readonly site: Site | null;
  /** `file:line` (relative to the working folder), or '-' when no driver frame was on the stack. */
  readonly siteLabel: string;
  /** The text of the driver's line. */
  readonly source: string;
  /** Every configuration it showed on, in matrix order. */
  readonly configurations: readonly string[];
  /** How many runs (configuration x seed) had it. */
  readonly runs: number;
  /** The simplest run that shows it, and how to replay that run alone with its full log. */
  readonly reproducer: { readonly configuration: string; readonly seed: number; readonly command: string | null };
}

export interface CheckResult {
  /** The module checked (null for a function). */
  readonly module: string | null;
  readonly matrix: Matrix;
  readonly seeds: readonly number[];
  readonly configurations: number;
  readonly runs: readonly RunResult[];
  readonly table: readonly TableRow[];
  readonly findings: readonly CheckFinding[];
  /** Reports that change nothing where they were made (see RunResult.latent); they do not fail the check. */
  readonly latent: readonly CheckFinding[];
  /** 0 clean, 1 findings. */
  readonly exitCode: 0 | 1;
}

/** The per-run budget when none is given. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** How long past its budget a worker may take to report a timeout itself before it is terminated. */
const GRACE_MS = 2_000;
const TS_EXT = /\.[cm]?tsx?$/;

function positiveInt(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new CheckUsageError(`${name} must be an integer in 1..${max}, got ${String(v)}`);
  return v;
}

interface Plan {
  readonly confs: readonly Configuration[];
  readonly seeds: readonly number[];
  readonly matrix: Matrix;
  readonly jobs: number;
  readonly timeoutMs: number;
}

function plan(o: CheckOptions): Plan {
  const matrix = Array.isArray(o.matrix) || o.matrix === undefined ? narrowMatrix(defaultMatrix(), (o.matrix ?? []) as readonly string[]) : (o.matrix as Matrix);
  const confs = o.only === undefined ? configurations(matrix) : [parseConfiguration(o.only)];
  if (confs.length === 0) throw new CheckUsageError('the matrix has no configuration');
  const seeds = o.seed !== undefined
    ? [positiveInt('seed', o.seed, 0xffff_ffff)]
    : Array.from({ length: positiveInt('seeds', o.seeds ?? 1, 10_000) }, (_, i) => i + 1);
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new CheckUsageError(`timeout must be a positive number of ms, got ${String(timeoutMs)}`);
  return { confs, seeds, matrix, jobs: positiveInt('jobs', o.jobs ?? availableParallelism(), 256), timeoutMs };
}

/**
 * A module to import: .mjs/.js as they are; .ts through esbuild into a bundle beside it (so its
 * bare imports, `dmasim` included, resolve as the module's own would), keeping every import that
 * is not TypeScript external so the driver and the checker share one copy of the library.
 */
async function prepareModule(path: string): Promise<{ file: string; cleanup: () => void }> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new CheckUsageError(`${path}: no such file`);
  if (/\.(m?js|cjs)$/.test(abs)) return { file: abs, cleanup: () => {} };
  if (!TS_EXT.test(abs)) throw new CheckUsageError(`${path}: a driver module is .mjs, .js or .ts, not ${extname(abs) || 'extensionless'}`);
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new CheckUsageError(`${path}: checking a .ts module needs esbuild (npm install --save-dev esbuild)`);
  }
  const file = join(dirname(abs), `.${basename(abs)}.${process.pid}.dmasim-check.mjs`);
  const cleanup = (): void => rmSync(file, { force: true });
  try {
    await esbuild.build({
      entryPoints: [abs], outfile: file, bundle: true, format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', logLevel: 'silent',
      plugins: [{
        name: 'typescript-only',
        setup(b) {
          b.onResolve({ filter: /.*/ }, async (args) => {
            if (args.kind === 'entry-point' || args.pluginData === 'inner') return undefined;
            if (!args.path.startsWith('.') && !isAbsolute(args.path)) return { external: true };
            const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'inner' });
            if (r.errors.length > 0) return { errors: r.errors };
            return TS_EXT.test(r.path) ? { path: r.path } : { path: r.path, external: true };
          });
        },
      }],
    });
  } catch (e) {
    cleanup();
    const first = (e as { errors?: { text: string; location?: { line: number } | null }[] }).errors?.[0];
    throw new CheckUsageError(`${path}: ${first === undefined ? String(e) : `${first.text}${first.location ? ` (line ${first.location.line})` : ''}`}`);
  }
  return { file, cleanup };
}

/** The worker script beside this file in dist/ (esbuild builds it as its own entry). */
function workerFile(): string {
  const f = fileURLToPath(new URL('./check-worker.js', import.meta.url));
  if (!existsSync(f)) throw new CheckUsageError('checking a module path needs the built package (npm run build): dist/check-worker.js is missing');
  return f;
}

/** How complex a configuration is: the sum of each value's place in its dimension (the defaults come first). */
function complexity(name: string): number {
  const c = parseConfiguration(name);
  return DIMENSION_NAMES.reduce((t, d) => t + [...DIMENSIONS[d].values, ...DIMENSIONS[d].extra].indexOf(c[d] as never), 0);
}

/** Kind and driver line; without a driver line, the report's text with its numbers (addresses, counts) left out. */
function findingKey(f: Finding): string {
  return `${f.kind}\u0000${f.site === null ? f.line.replace(/0x[0-9a-f]+|\d+/gi, '#') : `${f.site.file}:${f.site.line}`}`;
}

/** Groups the findings of every run by kind and driver line; the simplest run becomes the reproducer. */
export function dedupe(runs: readonly RunResult[], pick: (r: RunResult) => readonly Finding[], command: ((conf: string, seed: number) => string) | null): CheckFinding[] {
  const groups = new Map<string, { f: Finding; confs: Set<string>; runs: Set<RunResult>; best: RunResult }>();
  for (const r of runs) {
    for (const f of pick(r)) {
      const key = findingKey(f);
      const g = groups.get(key);
      if (g === undefined) {
        groups.set(key, { f, confs: new Set([r.configuration]), runs: new Set([r]), best: r });
        continue;
      }
      g.confs.add(r.configuration);
      g.runs.add(r);
      const [a, b] = [complexity(r.configuration), complexity(g.best.configuration)];
      if (a < b || (a === b && r.seed < g.best.seed)) g.best = r;
    }
  }
  return [...groups.values()]
    .map(({ f, confs, runs: rs, best }) => ({
      kind: f.kind, line: f.line, site: f.site, siteLabel: siteLabel(f.site), source: siteSource(f.site),
      configurations: [...confs], runs: rs.size,
      reproducer: { configuration: best.configuration, seed: best.seed, command: command === null ? null : command(best.configuration, best.seed) },
    }))
    .sort((x, y) => VERDICTS.indexOf(x.kind) - VERDICTS.indexOf(y.kind) || y.runs - x.runs);
}

/** One row per configuration: the worst of its runs. */
function tableOf(runs: readonly RunResult[]): TableRow[] {
  const byConf = new Map<string, RunResult[]>();
  for (const r of runs) byConf.set(r.configuration, [...(byConf.get(r.configuration) ?? []), r]);
  return [...byConf.entries()].map(([configuration, rs]) => {
    const verdict = verdictOf(rs.flatMap((r) => r.findings));
    const worst = rs.flatMap((r) => r.findings).find((f) => f.kind === verdict);
    return {
      configuration, verdict, seeds: rs.length, failingSeeds: rs.filter((r) => r.verdict !== 'clean').length,
      line: worst?.line ?? '', site: worst === undefined ? '' : siteLabel(worst.site),
    };
  });
}

function summarize(module: string | null, p: Plan, runs: RunResult[], commandName: string | undefined): CheckResult {
  const name = commandName ?? module;
  const timeout = p.timeoutMs === DEFAULT_TIMEOUT_MS ? '' : ` --timeout ${p.timeoutMs}`;
  const command = name === null ? null : (conf: string, seed: number) => `dmasim check ${/\s/.test(name) ? JSON.stringify(name) : name} --only ${conf} --seed ${seed}${timeout} --dmesg`;
  const findings = dedupe(runs, (r) => r.findings, command);
  return {
    module, matrix: p.matrix, seeds: p.seeds, configurations: p.confs.length, runs,
    table: tableOf(runs), findings, latent: dedupe(runs, (r) => r.latent, command), exitCode: findings.length > 0 ? 1 : 0,
  };
}

/** A run the checker had to give up on: the worker was stuck past its budget, or died. */
function lostRun(conf: string, seed: number, kind: 'timeout' | 'engine fault', line: string): RunResult {
  const findings = [{ kind, line, site: null }];
  const c = parseConfiguration(conf);
  return { configuration: conf, seed, verdict: kind, findings, latent: [], stats: null, options: { machine: machineOptions(c, seed), device: devicePlatform(c) } };
}

async function runInWorkers(module: string, file: string, p: Plan, o: CheckOptions): Promise<RunResult[]> {
  const pool = new Tinypool({ filename: workerFile(), minThreads: 1, maxThreads: p.jobs, isolateWorkers: false, concurrentTasksPerWorker: 1 });
  try {
    const probe = (await pool.run({ module: file, probe: true } satisfies WorkerTask)) as ProbeResult;
    if (probe.error !== null) throw new CheckUsageError(`${module}: ${probe.error}`);
    const tasks = p.confs.flatMap((c) => p.seeds.map((seed) => ({ conf: configurationName(c), seed })));
    const results: RunResult[] = new Array(tasks.length);
    let next = 0;
    let done = 0;
    // At most `jobs` tasks are out at once, so each starts as it is sent and its clock is fair.
    const lane = async (): Promise<void> => {
      while (next < tasks.length) {
        const i = next++;
        const { conf, seed } = tasks[i] as { conf: string; seed: number };
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(), p.timeoutMs + GRACE_MS);
        const task: WorkerTask = { module: file, configuration: conf, seed, timeoutMs: p.timeoutMs, dmesg: o.dmesg === true };
        try {
          results[i] = (await pool.run(task, { signal: ac.signal })) as RunResult;
        } catch (e) {
          results[i] = ac.signal.aborted
            ? lostRun(conf, seed, 'timeout', `the driver did not finish within ${p.timeoutMs} ms (its worker was stopped)`)
            : lostRun(conf, seed, 'engine fault', `the worker thread died: ${e instanceof Error ? e.message : String(e)}`);
        } finally {
          clearTimeout(timer);
        }
        o.onProgress?.(++done, tasks.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(p.jobs, tasks.length) }, lane));
    return results;
  } finally {
    await pool.destroy();
  }
}

/**
 * Runs a driver on every configuration of the matrix (default: every platform, DMA path, IOMMU
 * mode and load, one seed) and reports what breaks. `driver` is a module path (.mjs, .js, .ts)
 * whose default export is `async (m, ctx) => void`, run in worker threads; or such a function,
 * run in this thread one configuration after another (a function cannot cross to a worker, and
 * a synchronous endless loop in it cannot be stopped).
 */
export async function checkDriver(driver: string | DriverFn, options: CheckOptions = {}): Promise<CheckResult> {
  const p = plan(options);
  if (typeof driver === 'function') {
    const runs: RunResult[] = [];
    const total = p.confs.length * p.seeds.length;
    for (const c of p.confs) {
      for (const seed of p.seeds) {
        runs.push(await runConfiguration(driver, c, seed, { timeoutMs: p.timeoutMs, dmesg: options.dmesg === true }));
        options.onProgress?.(runs.length, total);
      }
    }
    return summarize(null, p, runs, options.commandName);
  }
  if (typeof driver !== 'string') throw new CheckUsageError(`checkDriver: driver must be a module path or a function, got ${driver === null ? 'null' : typeof driver}`);
  const mod = await prepareModule(driver);
  try {
    return summarize(driver, p, await runInWorkers(driver, mod.file, p, options), options.commandName);
  } finally {
    mod.cleanup();
  }
}
