// One run of a driver on one configuration and seed: boot the machine, hand it to the driver,
// watch the kernel log for reports as they are made (so each carries the driver line that made
// it), and turn what happened into findings.

import {
  createMachine, DmaCoreFault, DmaFaultError, KernelBug,
  type DataCheckReport, type Device, type DeviceOptions, type Machine, type MachineOptions, type Stats,
} from '../index.js';
import { configurationName, devicePlatform, machineOptions, onPlatform, type Configuration } from './matrix.js';
import { siteOf, stackHere, type Site } from './site.js';

/** What a driver module's default export is: it runs its driver on `m` and throws if its own checks fail. */
export type DriverFn = (m: Machine, ctx: DriverContext) => unknown;

/** What the driver is told about the run. */
export interface DriverContext {
  /** The configuration's name, e.g. `arm64/direct/iommu-none/load-off`. */
  readonly configuration: string;
  readonly seed: number;
  /** The configuration, dimension by dimension. */
  readonly dimensions: Configuration;
  /** What the machine was booted with. */
  readonly machine: MachineOptions;
  /** What the platform sets on every device the driver creates (over the driver's own options). */
  readonly device: Pick<DeviceOptions, 'coherent' | 'iommu' | 'busDmaLimit'>;
}

/**
 * A run's verdict, most severe first: the first that applies names the run. 'timeout' is a
 * driver that did not finish in time (it may be stuck, or the budget too small).
 */
export const VERDICTS = [
  'engine fault', 'timeout', 'data corrupted', 'data race', 'DMA fault', 'dma-debug error', 'WARN', 'driver threw', 'clean',
] as const;
export type Verdict = (typeof VERDICTS)[number];
export type FindingKind = Exclude<Verdict, 'clean'>;

/** One thing that went wrong in a run. */
export interface Finding {
  readonly kind: FindingKind;
  /** The first line of the report (or of the error). */
  readonly line: string;
  /** The driver's line that made the call, or null when no frame of the driver was on the stack. */
  readonly site: Site | null;
}

export interface RunResult {
  readonly configuration: string;
  readonly seed: number;
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /**
   * Reports that change nothing on this configuration: a CPU access to a buffer a coherent device
   * owns, mapped in place. The same code breaks where the device is not coherent or the buffer
   * bounces, and the matrix shows it there.
   */
  readonly latent: readonly Finding[];
  readonly stats: Stats | null;
  /** The whole configuration: what the machine was booted with and what the platform set on its devices. */
  readonly options: { readonly machine: MachineOptions; readonly device: DriverContext['device'] };
  /** The kernel log (only when asked for: a replay). */
  readonly dmesg?: readonly string[];
}

const DATA_RACES: ReadonlySet<DataCheckReport['kind']> = new Set(['cpu-access-device-owned', 'cpu-write-shared-cacheline']);
const CUT_HERE = '------------[ cut here ]------------';

/** The verdict of a set of findings: the most severe kind, or clean. */
export function verdictOf(findings: readonly Finding[]): Verdict {
  let best: Verdict = 'clean';
  for (const f of findings) if (VERDICTS.indexOf(f.kind) < VERDICTS.indexOf(best)) best = f.kind;
  return best;
}

/** The first line of anything thrown; a value that is not an Error is shown as what it is. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message.split('\n')[0] ?? ''}`;
  let shown: string;
  try {
    shown = typeof e === 'string' ? JSON.stringify(e) : typeof e === 'bigint' ? `${e}n` : (JSON.stringify(e) ?? String(e));
  } catch {
    shown = Object.prototype.toString.call(e);
  }
  return `threw a non-Error value: ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}`;
}

function thrownFinding(e: unknown): Finding {
  const kind: FindingKind = e instanceof DmaCoreFault ? 'engine fault' : e instanceof DmaFaultError ? 'DMA fault' : e instanceof KernelBug ? 'WARN' : 'driver threw';
  return { kind, line: describeThrown(e), site: e instanceof Error ? siteOf(e.stack) : null };
}

/**
 * Watches the kernel log while the driver runs: each WARN (dma-debug's included), each
 * data-check report and each allocation failure, with the stack of the call that logged it.
 */
class LogWatch {
  readonly warns: Finding[] = [];
  readonly reportSites: (Site | null)[] = [];
  /** The first line of the WARN being printed (after its "cut here"), or null. */
  private message: string | null = null;
  private inWarn = false;

  constructor(m: Machine) {
    m.log.onRecord = (_level, text) => this.record(text);
  }

  private record(text: string): void {
    if (text === CUT_HERE) {
      this.inWarn = true;
      this.message = null;
    } else if (text.startsWith('WARNING: ')) { // __warn()'s banner ends the report
      const message = this.message ?? text;
      this.warns.push({ kind: message.startsWith('DMA-API: ') ? 'dma-debug error' : 'WARN', line: message, site: siteOf(stackHere()) });
      this.inWarn = false;
    } else if (this.inWarn) {
      this.message ??= text;
    } else if (text.startsWith('BUG: DMA-API ')) {
      this.reportSites.push(siteOf(stackHere()));
    } else if (text.includes(': page allocation failure: ')) {
      this.warns.push({ kind: 'WARN', line: text, site: siteOf(stackHere()) });
    }
  }
}

/** Data-check reports as findings; those that change nothing here go to `latent`. */
function dataFindings(reports: readonly DataCheckReport[], sites: readonly (Site | null)[], coherent: ReadonlySet<string>): { findings: Finding[]; latent: Finding[] } {
  const findings: Finding[] = [];
  const latent: Finding[] = [];
  reports.forEach((r, i) => {
    const f: Finding = { kind: DATA_RACES.has(r.kind) ? 'data race' : 'data corrupted', line: `BUG: DMA-API ${r.title}`, site: sites[i] ?? null };
    const inPlaceOnCoherent = r.kind === 'cpu-access-device-owned' && r.mapping !== null && !r.mapping.bounced && coherent.has(r.mapping.device);
    (inPlaceOnCoherent ? latent : findings).push(f);
  });
  return { findings, latent };
}

/** Rejects after `ms` unless `p` settles first (a driver whose promise never resolves). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  if (!Number.isFinite(ms)) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RunTimeout(ms)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A run that went past its time budget. */
export class RunTimeout extends Error {
  override name = 'RunTimeout';
  constructor(readonly ms: number) {
    super(`did not finish within ${ms} ms`);
  }
}

export interface RunOptions {
  /** Per-run budget in ms (a promise that never settles); Infinity: none. */
  readonly timeoutMs: number;
  /** Keep the kernel log in the result. */
  readonly dmesg: boolean;
}

/** Runs `driver` once on configuration `c` with `seed`. Never throws: everything becomes a finding. */
export async function runConfiguration(driver: DriverFn, c: Configuration, seed: number, o: RunOptions): Promise<RunResult> {
  const configuration = configurationName(c);
  const boot = machineOptions(c, seed);
  const device = devicePlatform(c);
  const findings: Finding[] = [];
  let m: Machine | null = null;
  let watch: LogWatch | null = null;
  const coherent = new Set<string>();
  const devices: Device[] = [];
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64; // a thrown error's stack must reach through dmasim to the driver
  try {
    m = await createMachine(boot);
    watch = new LogWatch(m);
    const create = m.createDevice.bind(m);
    m.createDevice = (opts: DeviceOptions): Device => {
      const dev = create(onPlatform(opts, c));
      if (dev.dma_coherent) coherent.add(dev.name);
      devices.push(dev);
      return dev;
    };
    await withTimeout(Promise.resolve().then(() => driver(m as Machine, { configuration, seed, dimensions: c, machine: boot, device })), o.timeoutMs);
    // The run ends as the driver's module is unloaded: devices still bound are released
    // (device_release_driver()), where dma-debug reports the mappings the driver leaked.
    for (const dev of devices) m.unbind(dev);
  } catch (e) {
    findings.push(e instanceof RunTimeout ? { kind: 'timeout', line: `the driver ${e.message}`, site: null } : thrownFinding(e));
  } finally {
    Error.stackTraceLimit = limit;
  }
  let latent: Finding[] = [];
  let stats: Stats | null = null;
  if (m !== null && watch !== null) {
    m.log.onRecord = null;
    const data = dataFindings(m.dataCheck?.reports ?? [], watch.reportSites, coherent);
    latent = data.latent;
    findings.push(...data.findings, ...watch.warns);
    stats = m.stats();
    if (stats.iommuFaults > 0 && !findings.some((f) => f.kind === 'DMA fault')) {
      findings.push({ kind: 'DMA fault', line: `${stats.iommuFaults} device access(es) refused by the IOMMU`, site: null });
    }
  }
  const options = { machine: boot, device };
  return { configuration, seed, verdict: verdictOf(findings), findings, latent, stats, options, ...(o.dmesg && m !== null ? { dmesg: m.dmesg() } : {}) };
}
