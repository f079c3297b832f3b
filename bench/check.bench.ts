// What `dmasim check` costs: the example correct driver over the default matrix (72
// configurations) with 4 seeds, 288 runs.
//   - Wall time with 2 worker threads against 1 (goal: at least 1.7x faster on a 2-core machine).
//   - The checker's overhead per run: checkDriver with 1 worker against running the module
//     directly in one process, one run after another, on the same machines (the configuration's
//     boot options, dma-debug and the data-aware checker on, the platform's device options).
//     Goal: at most 1.2x. Also shown against direct runs with the checkers off, which is what
//     dma-debug and the data-aware checker themselves cost.
// The checker needs the built package (dist/check.js and its worker): `npm run bench` builds it.
// Each figure is the median of 3 rounds.

import { fileURLToPath } from 'node:url';
import { configurationName, configurations, defaultMatrix, machineOptions, onPlatform, devicePlatform } from '../src/checker/matrix.js';
import type { DeviceOptions, Machine, MachineOptions } from '../src/index.js';
import { report, type Row } from './util.js';

const SUITE = 'check';
const SEEDS = 4;
const ROUNDS = 3;
const dist = new URL('../../dist/', import.meta.url); // this file runs from build/bench/
const MODULE = fileURLToPath(new URL('../../examples/rx-tx.mjs', import.meta.url));

type Driver = (m: Machine, ctx: object) => Promise<void>;
interface Lib {
  createMachine(o: MachineOptions): Promise<Machine>;
}
interface Checker {
  checkDriver(path: string, o: object): Promise<{ exitCode: number; runs: readonly unknown[] }>;
}

const lib = (await import(new URL('index.js', dist).href)) as Lib;
const { checkDriver } = (await import(new URL('check.js', dist).href)) as Checker;
const driver = ((await import(MODULE)) as { default: Driver }).default;
const confs = configurations(defaultMatrix());

async function checked(jobs: number): Promise<number> {
  const t0 = performance.now();
  const r = await checkDriver(MODULE, { seeds: SEEDS, jobs });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0 || r.runs.length !== confs.length * SEEDS) throw new Error('the correct example is not clean');
  return ms;
}

/** Every run in this process, as a user would run the module by hand on each machine. */
async function direct(checkers: boolean): Promise<number> {
  const t0 = performance.now();
  for (const c of confs) {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const boot = machineOptions(c, seed);
      const m = await lib.createMachine(checkers ? boot : { ...boot, config: { ...boot.config, DMA_API_DEBUG: false }, dataCheck: false });
      const create = m.createDevice.bind(m);
      m.createDevice = (o: DeviceOptions) => create(onPlatform(o, c));
      await driver(m, { configuration: configurationName(c), seed, dimensions: c, machine: boot, device: devicePlatform(c) });
    }
  }
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const samples = { one: [] as number[], two: [] as number[], direct: [] as number[], bare: [] as number[] };
for (let k = 0; k < ROUNDS; k++) {
  samples.one.push(await checked(1));
  samples.two.push(await checked(2));
  samples.direct.push(await direct(true));
  samples.bare.push(await direct(false));
}
const [one, two, dir, bare] = [median(samples.one), median(samples.two), median(samples.direct), median(samples.bare)];
const runs = confs.length * SEEDS;
const rows: Row[] = [
  { suite: SUITE, name: `examples/rx-tx.mjs, ${runs} runs, direct, checkers off`, value: bare / runs, unit: 'ms/run' },
  { suite: SUITE, name: `examples/rx-tx.mjs, ${runs} runs, direct, checkers on`, value: dir / runs, unit: 'ms/run', ratio: dir / bare, baseline: 'of checkers off' },
  { suite: SUITE, name: `dmasim check --jobs 1, ${runs} runs`, value: one / runs, unit: 'ms/run', ratio: one / dir, baseline: 'of direct', goal: '<= 1.2x' },
  { suite: SUITE, name: `dmasim check --jobs 2, ${runs} runs`, value: two / 1000, unit: 's wall', ratio: one / two, baseline: 'faster than --jobs 1', goal: '>= 1.7x' },
];
report(rows);
