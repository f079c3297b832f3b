// The worker thread of `dmasim check` (built as dist/check-worker.js, beside the library's
// chunks, so the driver's `import ... from 'dmasim'` and this file share one copy of the
// library). Each worker imports the driver module once and runs one configuration per task.

import { pathToFileURL } from 'node:url';
import { parseConfiguration } from './matrix.js';
import { describeThrown, runConfiguration, type DriverFn, type RunResult } from './run.js';

/** One task: run `module` on a configuration and seed; or only load it (`probe`). */
export interface WorkerTask {
  readonly module: string;
  readonly probe?: boolean;
  readonly configuration?: string;
  readonly seed?: number;
  readonly timeoutMs?: number;
  readonly dmesg?: boolean;
}

/** What a probe says: the module loads and its default export is a function, or why not. */
export interface ProbeResult {
  readonly error: string | null;
}

// Stacks of a .ts driver point at its own lines through the bundle's inline source map.
process.setSourceMapsEnabled(true);

const loaded = new Map<string, Promise<DriverFn>>();

/** The module's default export, loaded once per worker. */
export async function loadDriver(path: string): Promise<DriverFn> {
  let p = loaded.get(path);
  if (p === undefined) {
    p = import(pathToFileURL(path).href).then((ns: { default?: unknown }) => {
      if (typeof ns.default !== 'function') {
        throw new TypeError(`its default export is ${ns.default === undefined ? 'missing' : `a ${typeof ns.default}`}, not a function (m, ctx) => ...`);
      }
      return ns.default as DriverFn;
    });
    loaded.set(path, p);
  }
  return p;
}

export default async function task(t: WorkerTask): Promise<RunResult | ProbeResult> {
  if (t.probe === true) {
    try {
      await loadDriver(t.module);
      return { error: null };
    } catch (e) {
      return { error: e instanceof TypeError && e.message.startsWith('its default export') ? e.message : describeThrown(e) };
    }
  }
  const driver = await loadDriver(t.module);
  return runConfiguration(driver, parseConfiguration(t.configuration ?? ''), t.seed ?? 1, { timeoutMs: t.timeoutMs ?? Infinity, dmesg: t.dmesg === true });
}
