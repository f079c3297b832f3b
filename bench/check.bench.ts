// What `dmasim check` costs: the example correct driver over the default matrix (72
// configurations) with 4 seeds, 288 runs.
//   - Wall time with 2 worker threads against 1 (goal: at least 1.7x faster on a 2-core machine).
//   - The checker's overhead per run: checkDriver with 1 worker against running the module
//     directly, one run after another, on the same machines (the configuration's boot options,
//     dma-debug and the data-aware checker on, the platform's device options). Goal: at most
//     1.2x. Also shown against direct runs with the checkers off: what dma-debug and the
//     data-aware checker themselves cost.
// Each variant runs in a fresh process, as a user runs `dmasim check` or `node driver.mjs` (a
// warm process would favour whichever ran second), and is timed from its start to its end, wall
// and CPU (all threads); each figure is the median of 3 rounds. On a shared machine the wall
// ratios move with the load (two threads gain nothing when other work holds both cores); the CPU
// ratios much less. The last two rows say what bounds --jobs 2: the cores --jobs 1 already keeps
// busy, and the speed-up --jobs 2 could reach with its CPU time spread over two free cores.
// The checker needs the built package (dist/check.js and its worker): `npm run bench` builds it.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configurationName, configurations, defaultMatrix, devicePlatform, machineOptions, onPlatform } from '../src/checker/matrix.js';
import type { DeviceOptions, Machine, MachineOptions } from '../src/index.js';
import { report, type Row } from './util.js';

const SUITE = 'check';
const SEEDS = 4;
const ROUNDS = 3;
const dist = new URL('../../dist/', import.meta.url); // this file runs from build/bench/
const MODULE = fileURLToPath(new URL('../../examples/rx-tx.mjs', import.meta.url));
const RUNS = configurations(defaultMatrix()).length * SEEDS;

type Variant = 'direct-off' | 'direct-on' | 'check-1' | 'check-2';

/** Every run in this process, as a user would run the module by hand on each machine. */
async function direct(checkers: boolean): Promise<void> {
  const { createMachine } = (await import(new URL('index.js', dist).href)) as { createMachine(o: MachineOptions): Promise<Machine> };
  const driver = ((await import(MODULE)) as { default: (m: Machine, ctx: object) => Promise<void> }).default;
  for (const c of configurations(defaultMatrix())) {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const boot = machineOptions(c, seed);
      const m = await createMachine(checkers ? boot : { ...boot, config: { ...boot.config, DMA_API_DEBUG: false }, dataCheck: false });
      const create = m.createDevice.bind(m);
      m.createDevice = (o: DeviceOptions) => create(onPlatform(o, c));
      await driver(m, { configuration: configurationName(c), seed, dimensions: c, machine: boot, device: devicePlatform(c) });
    }
  }
}

async function checked(jobs: number): Promise<void> {
  const { checkDriver } = (await import(new URL('check.js', dist).href)) as { checkDriver(p: string, o: object): Promise<{ exitCode: number; runs: readonly unknown[] }> };
  const r = await checkDriver(MODULE, { seeds: SEEDS, jobs });
  if (r.exitCode !== 0 || r.runs.length !== RUNS) throw new Error('the correct example is not clean');
}

/** One variant in this (fresh) process: prints its wall and CPU ms from the process's start. */
async function child(v: Variant): Promise<void> {
  if (v === 'direct-off' || v === 'direct-on') await direct(v === 'direct-on');
  else await checked(v === 'check-1' ? 1 : 2);
  const cpu = process.cpuUsage();
  process.stdout.write(`${performance.now()} ${(cpu.user + cpu.system) / 1000}\n`);
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] as Variant);
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (v: Variant): [number, number] => {
    const [wall, cpu] = execFileSync(process.execPath, [self, 'child', v], { encoding: 'utf8' }).trim().split(' ').map(Number);
    return [wall ?? NaN, cpu ?? NaN];
  };
  const VARIANTS: readonly Variant[] = ['direct-off', 'direct-on', 'check-1', 'check-2'];
  const wall = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const cpu = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let k = 0; k < ROUNDS; k++) {
    for (const v of VARIANTS) {
      const [w, c] = run(v);
      wall.get(v)?.push(w);
      cpu.get(v)?.push(c);
    }
  }
  const median = (xs: number[] | undefined): number => [...(xs ?? [])].sort((a, b) => a - b)[(xs?.length ?? 0) >> 1] ?? NaN;
  const W = (v: Variant): number => median(wall.get(v));
  const C = (v: Variant): number => median(cpu.get(v));
  const name = `examples/rx-tx.mjs, ${RUNS} runs`;
  const rows: Row[] = [
    { suite: SUITE, name: `${name}, direct, checkers off`, value: W('direct-off') / RUNS, unit: 'ms/run' },
    { suite: SUITE, name: `${name}, direct, checkers on`, value: W('direct-on') / RUNS, unit: 'ms/run', ratio: W('direct-on') / W('direct-off'), baseline: 'of checkers off' },
    { suite: SUITE, name: `${name}, dmasim check --jobs 1`, value: W('check-1') / RUNS, unit: 'ms/run', ratio: W('check-1') / W('direct-on'), baseline: 'of direct (wall)', goal: '<= 1.2x' },
    { suite: SUITE, name: `${name}, dmasim check --jobs 1, CPU`, value: C('check-1') / RUNS, unit: 'ms/run', ratio: C('check-1') / C('direct-on'), baseline: 'of direct (CPU)', goal: '<= 1.2x' },
    { suite: SUITE, name: `${name}, dmasim check --jobs 2`, value: W('check-2') / 1000, unit: 's wall', ratio: W('check-1') / W('check-2'), baseline: 'faster than --jobs 1', goal: '>= 1.7x' },
    // The work two threads do against one: the speed-up two free cores could give is 2x over this.
    { suite: SUITE, name: `${name}, dmasim check --jobs 2, CPU`, value: C('check-2') / RUNS, unit: 'ms/run', ratio: C('check-2') / C('check-1'), baseline: 'of --jobs 1 (CPU)' },
    // Cores --jobs 1 keeps busy: besides its worker, V8's GC and compiler threads (and this one).
    { suite: SUITE, name: `${name}, dmasim check --jobs 1, cores busy`, value: C('check-1') / W('check-1'), unit: 'cores' },
    // The most --jobs 2 can gain on 2 free cores: its CPU spread evenly over both, against --jobs 1's wall.
    { suite: SUITE, name: `${name}, --jobs 2 bound on 2 cores`, value: (2 * W('check-1')) / C('check-2'), unit: 'x', goal: '>= 1.7x' },
  ];
  report(rows);
}
