// The dmasim command line. Exit codes: 0 ok; 1 data corruption, dma-debug errors or data races
// found, or a workload that failed; 2 bad usage. A failure is one line on stderr, never a stack
// trace (DMASIM_STACK=1 prints it, for dmasim's own bugs).

import { dataCheckJson, finishRuns, registerRun, replay, summaryLines } from './findings.js';
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DebugfsError, type Machine, type MachineOptions } from '../index.js';
import {
  barrierChartSvg, BARRIER_SWEEP_DEFAULTS, checkDmapoolTestOptions, DMATEST_DEFAULTS, runDmatest, checkDmatestOptions, checkMapBenchmarkOptions, checkNicOptions, DMAPOOL_TEST_MAX_ITERATIONS,
  formatBarrierTable, MAP_BENCHMARK_DEFAULTS, NIC_DEFAULTS, NIC_LIMITS, runBarrierSweep, runDemo, runDmapoolTest, runMapBenchmark, runNic,
  type BarrierOp, type BarrierSweepOptions, type BarrierSweepResult, type MapBenchmarkOptions, type NicApi, type NicBug, type NicOptions, type NicReport,
} from '../workloads/index.js';
import {
  asUsage, bootMachine, envelope, int, machineOptions, machineOptionsOf, UsageError, validated, VERSION, type MachineFlags,
} from './machine-options.js';
import { checkCommand } from './check.js';
import { withProgress } from './progress.js';

function print(lines: readonly string[]): void {
  for (const l of lines) process.stdout.write(`${l}\n`);
}

function printJson(value: unknown): void {
  // map-benchmark's kernel outputs are u64 (bigint); JSON has numbers.
  print([JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))]);
}

interface TimedFlags {
  warmup: number;
  repeat: number;
}

/** --warmup and --repeat, for the commands that measure wall time. */
function timedOptions(cmd: Command): Command {
  return cmd
    .option('--warmup <n>', 'untimed runs first, each on a fresh machine (JIT and caches warm up)', int('--warmup', 0, 1000), 0)
    .option('--repeat <n>', 'timed runs, each on a fresh machine; the run with the median wall time is reported', int('--repeat', 1, 1000), 1);
}

/**
 * Runs `once` warmup + repeat times and returns the timed run with the median wall time (the
 * same seed gives every run the same counters; only the wall time differs), with every wall time.
 */
async function timedRuns<T>(t: TimedFlags, once: (timed: boolean) => Promise<T>, wall: (r: T) => number): Promise<{ run: T; walls: number[] }> {
  for (let i = 0; i < t.warmup; i++) await once(false);
  const runs: T[] = [];
  for (let i = 0; i < t.repeat; i++) runs.push(await once(true));
  const sorted = [...runs].sort((a, b) => wall(a) - wall(b));
  return { run: sorted[(sorted.length - 1) >> 1] as T, walls: runs.map(wall) };
}

function nicLines(r: NicReport, packetSize: number): string[] {
  const mpps = (r.packetsPerSecond / 1e6).toFixed(3);
  const api = r.api === 'batched' ? 'batched (one engine call per ring step)' : r.api === 'model' ? `model (the dmasim_nic driver of the NIC device model; ${r.rxMissed} frames missed)`
    : r.apiFallback === null ? 'per-call' : `per-call (batched is not valid here: ${r.apiFallback})`;
  return [
    `api            ${api}`,
    `packets        ${r.packets} (${r.verified} verified, ${r.corrupted} corrupted, ${r.faults} DMA faults)`,
    `throughput     ${mpps} Mpps wall (${((r.packetsPerSecond * packetSize * 8) / 1e9).toFixed(2)} Gbit/s of payload), ${r.wallSeconds.toFixed(3)} s`,
    `model time     ${r.modelNsPerPacket.toFixed(1)} ns/packet`,
    `cache ops      ${r.cacheMaintenanceOps} DC line operations, ${r.barriers} DSBs`,
    `bounces        ${r.bounceBytes} bytes, ${r.swiotlbSlotsUsedMax} swiotlb slots at most`,
    `iotlb flushes  ${r.iotlbFlushes}`,
    `debug errors   ${r.debugErrors}`,
    `data races     ${r.dataRaces}`,
  ];
}

interface NicFlags extends MachineFlags, TimedFlags {
  packetSize: number;
  ringSize: number;
  packets: number;
  mode: 'map' | 'recycle';
  descriptors: 'coherent' | 'pool';
  coherent?: boolean;
  dmaBits: number;
  bug: NicBug;
  api: NicApi;
  iommu: boolean;
  dmesg: boolean;
}

async function nic(f: NicFlags, cmd: Command): Promise<number> {
  const opts = machineOptionsOf(f, cmd);
  const nicOptions: Partial<NicOptions> = {
    packetSize: f.packetSize, ringSize: f.ringSize, packets: f.packets, mode: f.mode, descriptors: f.descriptors,
    dmaBits: f.dmaBits, bug: f.bug, api: f.api, iommu: f.iommu, ...(f.coherent === undefined ? {} : { coherent: f.coherent }),
  };
  validated(() => checkNicOptions('dmasim nic', nicOptions, NIC_DEFAULTS));
  const { run, walls } = await timedRuns(f, async (timed) => {
    const m = await bootMachine(opts);
    registerRun(m, f);
    return { m, r: await withProgress(timed && !f.json, (onProgress) => runNic(m, { ...nicOptions, onProgress })) };
  }, ({ r }) => r.wallSeconds);
  const { m, r } = run;
  const dmesg = f.dmesg ? m.dmesg() : [];
  if (f.json) printJson({ ...envelope('nic', m, opts), options: nicOptions, ...r, ...dataCheckJson(m), wallSecondsPerRun: walls, ...(f.dmesg ? { dmesg } : {}) });
  else {
    print([
      `dmasim nic on ${m.arch.name}: ${f.packets} RX + ${f.packets} TX packets of ${f.packetSize} B, ring ${f.ringSize}, mode ${f.mode}, bug ${f.bug}` +
        (walls.length > 1 ? ` (median of ${walls.length} runs)` : ''),
      ...nicLines(r, f.packetSize),
      ...(f.dmesg ? ['', ...dmesg] : []),
    ]);
  }
  return r.corrupted > 0 || r.faults > 0 || r.debugErrors > 0 || r.dataRaces > 0 ? 1 : 0;
}

/** A short NIC run, to have something to look at in debugfs or dmesg. */
async function afterRun(opts: MachineOptions): Promise<Machine> {
  const m = await bootMachine(opts);
  runNic(m, { packets: 1000 });
  return m;
}

/** A file's text, or a directory's listing; a path that is neither is the user's mistake. */
function debugfsRead(m: Machine, path: string): { file: string } | { entries: string[] } {
  const p = path.length > 1 ? path.replace(/\/$/, '') : path;
  try {
    return { file: m.debugfs.read(p) };
  } catch (e) {
    if (!(e instanceof DebugfsError) || e.code !== 'EISDIR') throw usage(e, `debugfs ${path}`);
  }
  try {
    return { entries: m.debugfs.list(p) };
  } catch (e) {
    throw usage(e, `debugfs ${path}`);
  }
}

/** strerror(): what the shell would say about the errno. */
const STRERROR: Readonly<Record<DebugfsError['code'], string>> = {
  ENOENT: 'No such file or directory', EBADF: 'Bad file descriptor', EACCES: 'Permission denied', EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument', ERANGE: 'Numerical result out of range',
};

function usage(e: unknown, what: string): unknown {
  if (!(e instanceof DebugfsError)) return e;
  const why = STRERROR[e.code];
  return new UsageError(`${what}: ${why}`);
}

/** The default command runs when the first argument is an option, or there is none. */
const DEFAULT_COMMAND = 'nic';

function program(setExit: (code: number) => void): Command {
  const root = new Command('dmasim')
    .description('A WebAssembly emulator of the Linux DMA mapping API: non-coherent caches, bounce buffers and dma-debug, made visible')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`dmasim: ${s.replace(/^error: /, '')}`) })
    .addHelpText('after', '\nReplay:\n  report <command> [options]  run a command with --data-check and summarise its reports by kind and site');
  root.hook('postAction', () => finishRuns(print));

  timedOptions(machineOptions(root.command(DEFAULT_COMMAND, { isDefault: true })))
    .description('simulate a NIC and its driver: RX and TX rings, streaming-mapped or recycled buffers, every payload verified')
    .option('--packet-size <bytes>', 'payload bytes per packet', int('--packet-size', ...NIC_LIMITS.packetSize), NIC_DEFAULTS.packetSize)
    .option('--ring-size <n>', 'descriptors per ring', int('--ring-size', ...NIC_LIMITS.ringSize), NIC_DEFAULTS.ringSize)
    .option('--packets <n>', 'packets to receive and to transmit', int('--packets', ...NIC_LIMITS.packets), NIC_DEFAULTS.packets)
    .addOption(new Option('--mode <mode>', 'map/unmap per packet, or recycle with syncs').choices(['map', 'recycle']).default('map'))
    .addOption(new Option('--descriptors <where>', 'descriptor memory').choices(['coherent', 'pool']).default('coherent'))
    .option('--coherent', 'the NIC is DMA-coherent (arm64 default: not)')
    .option('--dma-bits <n>', 'DMA mask width', int('--dma-bits', ...NIC_LIMITS.dmaBits), 64)
    .addOption(new Option('--bug <bug>', 'inject a driver bug').choices(['none', 'no-sync-for-cpu', 'no-sync-for-device', 'no-dma-wmb']).default('none'))
    .addOption(new Option('--api <path>', 'model: the dmasim_nic driver of the NIC device model (probe, MMIO, interrupts, NAPI poll); batched: rings driven by hand, one engine call per ring step where dma-direct maps without bouncing (line rate), else per-call; per-call: rings driven by hand, every DMA API call from JS').choices(['model', 'batched', 'per-call']).default(NIC_DEFAULTS.api))
    .option('--iommu', 'put the NIC behind an IOMMU (iommu.strict= on --cmdline picks strict or lazy)', false)
    .option('--dmesg', 'print the kernel log after the run', false)
    .action(async (f: NicFlags, cmd: Command) => setExit(await nic(f, cmd)));

  // The selftest's own options and defaults; its checks (and messages) come from the workload,
  // so the values are taken as plain integers here.
  const any = (name: string) => int(name, -(2 ** 31), 2 ** 31 - 1);
  const d = MAP_BENCHMARK_DEFAULTS;
  timedOptions(machineOptions(root.command('map-benchmark')))
    .description('kernel/dma/map_benchmark.c driven as tools/testing/selftests/dma/dma_map_benchmark does')
    .option('-t, --threads <n>', 'threads', any('-t'), d.threads)
    .option('-s, --seconds <n>', 'test duration (simulated seconds)', any('-s'), d.seconds)
    .option('-n, --node <n>', 'NUMA node', any('-n'), d.node)
    .option('-b, --dma-bits <n>', 'DMA mask bits', any('-b'), d.dmaBits)
    .option('-d, --dir <n>', 'direction: 0 BIDIRECTIONAL, 1 TO_DEVICE, 2 FROM_DEVICE', any('-d'), d.dir)
    .option('-x, --trans-delay <ns>', 'delay between map and unmap', any('-x'), d.transDelayNs)
    .option('-g, --granule <n>', 'pages per map, or sg entries in sg mode', any('-g'), d.granule)
    .option('-m, --mode <n>', 'map mode: 0 single, 1 sg', any('-m'), d.mode)
    .action(async (f: MachineFlags & TimedFlags & { threads: number; seconds: number; node: number; dmaBits: number; dir: number; transDelay: number; granule: number; mode: number }, cmd: Command) => {
      const o = { threads: f.threads, seconds: f.seconds, node: f.node, dmaBits: f.dmaBits, dir: f.dir, transDelayNs: f.transDelay, granule: f.granule, mode: f.mode };
      const bad = checkMapBenchmarkOptions(o);
      if (bad !== null) throw new UsageError(bad);
      const opts = machineOptionsOf(f, cmd);
      const { run: { m, r }, walls } = await timedRuns(f, async (timed) => {
        const m = await bootMachine(opts);
        registerRun(m, f);
        return { m, r: await withProgress(timed && !f.json, (onProgress) => runMapBenchmark(m, o as MapBenchmarkOptions, { onProgress })) };
      }, ({ r }) => r.wallMapNs + r.wallUnmapNs);
      if (f.json) printJson({ ...envelope('map-benchmark', m, opts), options: o, ...r, ...dataCheckJson(m), wallNsPerRun: walls });
      else print(r.error === null ? r.lines : [...r.lines, r.error]);
      setExit(r.error === null ? 0 : 1);
    });

  timedOptions(machineOptions(root.command('dmapool-test')))
    .description('mm/dmapool_test.c: alloc-all/free-all rounds over its six pool geometries')
    .option('--iterations <n>', 'rounds per geometry (NR_TESTS)', int('--iterations', 1, DMAPOOL_TEST_MAX_ITERATIONS), 100)
    .action(async (f: MachineFlags & TimedFlags & { iterations: number }, cmd: Command) => {
      validated(() => checkDmapoolTestOptions('dmasim dmapool-test', { iterations: f.iterations }, 100));
      const opts = machineOptionsOf(f, cmd);
      const { run: { m, r }, walls } = await timedRuns(f, async (timed) => {
        const m = await bootMachine(opts);
        registerRun(m, f);
        return { m, r: await withProgress(timed && !f.json, (onProgress) => runDmapoolTest(m, { iterations: f.iterations, onProgress })) };
      }, ({ r }) => r.results.reduce((us, s) => us + s.timeUs, 0));
      if (f.json) printJson({ ...envelope('dmapool-test', m, opts), options: { iterations: f.iterations }, ...r, ...dataCheckJson(m), timeUsPerRun: walls });
      else print(r.error === null ? r.lines : [...r.lines, r.error]);
      setExit(r.error === null ? 0 : 1);
    });

  const t = DMATEST_DEFAULTS;
  machineOptions(root.command('dmatest'))
    .description("drivers/dma/dmatest.c's memcpy test against the memcpy DMA engine model (its module parameters, its result and summary lines)")
    .option('--test_buf_size <bytes>', 'size of the memcpy test buffer', any('--test_buf_size'), t.test_buf_size)
    .option('--iterations <n>', 'tests to run', any('--iterations'), t.iterations)
    .option('--noverify', 'skip the data check', false)
    .option('--norandom', 'copy the whole buffer at offset 0', false)
    .option('--alignment <n>', 'log2 alignment of offsets and length (-1: the engine\'s)', any('--alignment'), t.alignment)
    .option('--transfer_size <bytes>', 'a fixed length (0: random)', any('--transfer_size'), t.transfer_size)
    .option('--polled', 'poll for completion instead of the interrupt', false)
    .option('--timeout <ms>', 'ms to wait for each completion', any('--timeout'), t.timeout)
    .action(async (f: MachineFlags & { test_buf_size: number; iterations: number; noverify: boolean; norandom: boolean; alignment: number; transfer_size: number; polled: boolean; timeout: number }, cmd: Command) => {
      const opts = machineOptionsOf(f, cmd);
      const o = validated(() => checkDmatestOptions('dmasim dmatest', {
        test_buf_size: f.test_buf_size, iterations: f.iterations, noverify: f.noverify, norandom: f.norandom,
        alignment: f.alignment, transfer_size: f.transfer_size, polled: f.polled, timeout: f.timeout,
      }));
      const m = await bootMachine(opts);
      const r = runDmatest(m, o);
      if (f.json) printJson({ ...envelope('dmatest', m, opts), options: o, ...r });
      else print(r.lines);
      setExit(r.failures === 0 ? 0 : 1);
    });

  root.command('barriers')
    .description('batched DSBs (Linux 7.1, the default) vs per-buffer (--per-buffer, earlier kernels) over sg list lengths and entry sizes: DC ops, barriers, model and wall time; --svg draws a chart')
    .option('--entries <list>', 'sg list lengths, comma-separated', (v: string) => v.split(',').map(int('--entries', 1, 65536)), [...BARRIER_SWEEP_DEFAULTS.entries])
    .option('--sizes <list>', 'bytes per sg entry, comma-separated', (v: string) => v.split(',').map(int('--sizes', 1, 1 << 20)), [...BARRIER_SWEEP_DEFAULTS.entrySizes])
    .addOption(new Option('--op <op>', 'the timed call').choices(['map', 'unmap', 'sync_for_device', 'sync_for_cpu']).default('map'))
    .addOption(new Option('--dir <dir>', 'DMA direction: 0 BIDIRECTIONAL, 1 TO_DEVICE, 2 FROM_DEVICE').choices(['0', '1', '2']))
    .option('--svg <file>', 'also write the chart, as SVG, to this file')
    .option('--seed <n>', 'seed', int('--seed', 0, 0xffff_ffff), 1)
    .option('--warmup <n>', 'untimed sweeps first', int('--warmup', 0, 1000), 0)
    .option('--repeat <n>', 'timed repetitions per configuration and mode (median reported; default scales with the list)', int('--repeat', 1, 1000))
    .option('--json', 'machine-readable output', false)
    .action(async (f: { entries: number[]; sizes: number[]; op: BarrierOp; dir?: string; svg?: string; seed: number; warmup: number; repeat?: number; json: boolean }) => {
      const dir = f.dir === undefined ? (f.op === 'unmap' || f.op === 'sync_for_cpu' ? 2 : 1) : (Number(f.dir) as 0 | 1 | 2);
      const o = { entries: f.entries, entrySizes: f.sizes, op: f.op, dir, seed: f.seed, ...(f.repeat === undefined ? {} : { repetitions: f.repeat }) } as const;
      // runBarrierSweep checks its options (src/workloads/options.ts) before it runs anything.
      const sweep = (p: Partial<BarrierSweepOptions>): Promise<BarrierSweepResult> => runBarrierSweep(p).catch((e: unknown) => { throw asUsage(e); });
      for (let i = 0; i < f.warmup; i++) await sweep(o);
      const r = await withProgress(!f.json, (onProgress) => sweep({ ...o, onProgress }));
      // Two machines ran (per-buffer and batched): r.stats has m.stats() of each, every row both's counters.
      if (f.json) printJson({ dmasim: VERSION, command: 'barriers', configuration: { arch: r.arch, ...o, warmup: f.warmup }, ...r });
      else print(formatBarrierTable(r));
      if (f.svg !== undefined) {
        try {
          writeFileSync(f.svg, await barrierChartSvg(r));
        } catch (e) {
          throw new UsageError(`--svg ${f.svg}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
        if (!f.json) print([`chart: ${f.svg}`]);
      }
      setExit(0);
    });

  machineOptions(root.command('debugfs'))
    .description('after a short NIC run, print a /sys/kernel/debug file or list a directory')
    .argument('[path]', 'a file or directory', '/sys/kernel/debug')
    .action(async (path: string, f: MachineFlags, cmd: Command) => {
      const opts = machineOptionsOf(f, cmd);
      const m = await afterRun(opts);
      const out = debugfsRead(m, path);
      if (f.json) printJson({ ...envelope('debugfs', m, opts), path, ...out });
      else process.stdout.write('file' in out ? out.file : out.entries.map((e) => `${e}\n`).join(''));
      setExit(0);
    });

  machineOptions(root.command('dmesg'))
    .description('after a short NIC run, print the kernel log')
    .action(async (f: MachineFlags, cmd: Command) => {
      const opts = machineOptionsOf(f, cmd);
      const m = await afterRun(opts);
      if (f.json) printJson({ ...envelope('dmesg', m, opts), dmesg: m.dmesg() });
      else print(m.dmesg());
      setExit(0);
    });

  root.command('demo')
    .description('the four ways a write-back cache breaks DMA, each with its fix')
    .addOption(new Option('--arch <arch>', 'machine architecture').choices(['arm64', 'x86_64']).default('arm64'))
    .option('--seed <n>', 'seed', int('--seed', 0, 0xffff_ffff), 1)
    .action(async (f: { arch: 'arm64' | 'x86_64'; seed: number }) => {
      print(await runDemo(f));
      setExit(0);
    });

  checkCommand(root, setExit);
  return root;
}

/** The first argument names a command, or is an option of the default one. */
function checkCommandName(root: Command, argv: readonly string[]): void {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || first === 'help') return;
  const names = root.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (!names.includes(first)) throw new UsageError(`unknown command '${first}' (commands: ${names.join(', ')}; dmasim --help)`);
}

/** One line on stderr for any failure: 2 for usage, 1 for a run that failed. */
function report(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  const usageError = e instanceof UsageError;
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`dmasim: ${message.split('\n')[0]}\n`);
  if (process.env.DMASIM_STACK === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return usageError ? 2 : 1;
}

/** `dmasim report <command ...>`: exit 1 when the replay found anything. */
async function replayReport(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const s = await replay(args.filter((a) => a !== '--json'), main);
  print(json ? [JSON.stringify(s)] : summaryLines(s));
  return s.reports > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'report') return replayReport(argv.slice(1));
  let code = 0;
  try {
    const root = program((c) => { code = c; });
    checkCommandName(root, argv);
    await root.parseAsync(argv, { from: 'user' });
  } catch (e) {
    return report(e);
  }
  return code;
}

// `dmasim ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
