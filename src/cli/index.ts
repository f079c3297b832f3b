// The dmasim command line. Exit codes: 0 ok, 1 data corruption or dma-debug errors found,
// 2 bad usage (a one-line message naming the option, no stack trace).

import { dataCheckJson, finishRuns, registerRun, replay, summaryLines } from './findings.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { createMachine, type Machine, type MachineOptions } from '../machine.js';
import { runDemo } from '../workloads/demo.js';
import { writeFileSync } from 'node:fs';
import { barrierChartSvg, BARRIER_SWEEP_DEFAULTS, formatBarrierTable, runBarrierSweep, type BarrierOp } from '../workloads/barriers.js';
import { runDmapoolTest } from '../workloads/dmapool-test.js';
import { checkMapBenchmarkOptions, MAP_BENCHMARK_DEFAULTS, runMapBenchmark, type MapBenchmarkOptions } from '../workloads/map-benchmark.js';
import { checkCommand } from './check.js';
import { NIC_DEFAULTS, runNic, type NicApi, type NicBug, type NicReport } from '../workloads/nic.js';

class UsageError extends Error {}

/** An option parser for an integer in [lo, hi]. */
function int(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < lo || n > hi) throw new InvalidArgumentError(`${name} must be an integer in ${lo}..${hi}`);
    return n;
  };
}

/** A comma-separated list of integers in [lo, hi]. */
function list(name: string, lo: number, hi: number) {
  return (v: string): number[] => v.split(',').map((x) => int(name, lo, hi)(x));
}

function probability(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a probability in 0..1`);
    return n;
  };
}

/** A progress bar on stderr, shown only for runs that take more than a second on a terminal. */
function progressBar(quiet: boolean): { update(f: number): void; stop(): void } {
  const t0 = performance.now();
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(f: number) {
      if (quiet || !process.stderr.isTTY) return;
      if (bar === null && performance.now() - t0 > 1000) {
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: ' {bar} {percentage}% | ETA {eta}s', hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(100, 0);
      }
      bar?.update(Math.round(f * 100));
    },
    stop() {
      bar?.stop();
    },
  };
}

interface MachineFlags {
  arch: 'arm64' | 'x86_64';
  seed: number;
  cmdline: string;
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
function machineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--arch <arch>', 'machine architecture').choices(['arm64', 'x86_64']).default('arm64'))
    .option('--seed <n>', 'seed of every random choice', int('--seed', 0, 0xffff_ffff), 1)
    .option('--cmdline <text>', 'kernel command line (e.g. "swiotlb=2048")', '')
    .option('--debug', 'build with CONFIG_DMA_API_DEBUG', false)
    .option('--per-buffer', 'one DSB per cache operation (no ARCH_HAS_BATCHED_DMA_SYNC)', false)
    .option('--eviction-pressure <p>', 'random evictions per CPU line access', probability('--eviction-pressure'), 0)
    .option('--speculation <p>', 'speculative line fills per CPU line access', probability('--speculation'), 0)
    .option('--store-reordering <p>', 'uncached stores a device may see before a barrier', probability('--store-reordering'), 0)
    .option('--data-check', 'report each access that breaks DMA ownership, at the access', false)
    .option('--trace <file.json>', 'write a timeline of the run for ui.perfetto.dev (Chrome trace-event JSON)')
    .option('--json', 'machine-readable output', false);
}

async function bootMachine(f: MachineFlags): Promise<Machine> {
  const opts: MachineOptions = {
    arch: f.arch,
    seed: f.seed,
    cmdline: f.cmdline,
    config: { DMA_API_DEBUG: f.debug, ARCH_HAS_BATCHED_DMA_SYNC: !f.perBuffer && f.arch === 'arm64' },
    dataCheck: f.dataCheck,
    load: { evictionPressure: f.evictionPressure, speculation: f.speculation, storeReordering: f.storeReordering },
  };
  const m = await createMachine(opts);
  registerRun(m, f);
  return m;
}

function print(lines: readonly string[]): void {
  for (const l of lines) process.stdout.write(`${l}\n`);
}

function nicLines(r: NicReport, f: { packetSize: number }): string[] {
  const mpps = (r.packetsPerSecond / 1e6).toFixed(3);
  const api = r.api === 'batched' ? 'batched (one engine call per ring step)' : r.apiFallback === null ? 'per-call' : `per-call (batched is not valid here: ${r.apiFallback})`;
  return [
    `api            ${api}`,
    `packets        ${r.packets} (${r.verified} verified, ${r.corrupted} corrupted, ${r.faults} DMA faults)`,
    `throughput     ${mpps} Mpps wall (${((r.packetsPerSecond * f.packetSize * 8) / 1e9).toFixed(2)} Gbit/s of payload), ${r.wallSeconds.toFixed(3)} s`,
    `model time     ${r.modelNsPerPacket.toFixed(1)} ns/packet`,
    `cache ops      ${r.cacheMaintenanceOps} DC line operations, ${r.barriers} DSBs`,
    `bounces        ${r.bounceBytes} bytes, ${r.swiotlbSlotsUsedMax} swiotlb slots at most`,
    `iotlb flushes  ${r.iotlbFlushes}`,
    `debug errors   ${r.debugErrors}`,
    `data races     ${r.dataRaces}`,
  ];
}

interface NicFlags extends MachineFlags {
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

async function nic(f: NicFlags): Promise<number> {
  const m = await bootMachine(f);
  const bar = progressBar(f.json);
  const r = runNic(m, {
    packetSize: f.packetSize, ringSize: f.ringSize, packets: f.packets, mode: f.mode, descriptors: f.descriptors,
    dmaBits: f.dmaBits, bug: f.bug, api: f.api, iommu: f.iommu, ...(f.coherent === undefined ? {} : { coherent: f.coherent }), onProgress: (x) => bar.update(x),
  });
  bar.stop();
  const dmesg = f.dmesg ? m.dmesg() : [];
  if (f.json) print([JSON.stringify({ ...r, ...dataCheckJson(m), ...(f.dmesg ? { dmesg } : {}) })]);
  else print([`dmasim nic on ${f.arch}: ${f.packets} RX + ${f.packets} TX packets of ${f.packetSize} B, ring ${f.ringSize}, mode ${f.mode}, bug ${f.bug}`, ...nicLines(r, f), ...(f.dmesg ? ['', ...dmesg] : [])]);
  return r.corrupted > 0 || r.faults > 0 || r.debugErrors > 0 || r.dataRaces > 0 ? 1 : 0;
}

/** A short NIC run, to have something to look at in debugfs or dmesg. */
async function afterRun(f: MachineFlags): Promise<Machine> {
  const m = await bootMachine(f);
  runNic(m, { packets: 1000 });
  return m;
}

function program(setExit: (code: number) => void): Command {
  const root = new Command('dmasim')
    .description('A WebAssembly emulator of the Linux DMA mapping API: non-coherent caches, bounce buffers and dma-debug, made visible')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', '\nReplay:\n  report <command> [options]  run a command with --data-check and summarise its reports by kind and site');
  root.hook('postAction', () => finishRuns(print));

  machineOptions(root.command('nic', { isDefault: true }))
    .description('simulate a NIC: RX and TX rings, streaming-mapped or recycled buffers, every payload verified')
    .option('--packet-size <bytes>', 'payload bytes per packet', int('--packet-size', 60, 9000), NIC_DEFAULTS.packetSize)
    .option('--ring-size <n>', 'descriptors per ring', int('--ring-size', 2, 4096), NIC_DEFAULTS.ringSize)
    .option('--packets <n>', 'packets to receive and to transmit', int('--packets', 1, 1e9), NIC_DEFAULTS.packets)
    .addOption(new Option('--mode <mode>', 'map/unmap per packet, or recycle with syncs').choices(['map', 'recycle']).default('map'))
    .addOption(new Option('--descriptors <where>', 'descriptor memory').choices(['coherent', 'pool']).default('coherent'))
    .option('--coherent', 'the NIC is DMA-coherent (arm64 default: not)')
    .option('--dma-bits <n>', 'DMA mask width', int('--dma-bits', 20, 64), 64)
    .addOption(new Option('--bug <bug>', 'inject a driver bug').choices(['none', 'no-sync-for-cpu', 'no-sync-for-device', 'no-dma-wmb']).default('none'))
    .addOption(new Option('--api <path>', 'batched: one engine call per ring step where dma-direct maps without bouncing, else per-call; per-call: every DMA API call from JS').choices(['batched', 'per-call']).default(NIC_DEFAULTS.api))
    .option('--iommu', 'put the NIC behind an IOMMU (iommu.strict= on --cmdline picks strict or lazy)', false)
    .option('--dmesg', 'print the kernel log after the run', false)
    .action(async (f: NicFlags) => setExit(await nic(f)));

  // The selftest's own options and defaults; its checks (and messages) come from the workload,
  // so the values are taken as plain integers here.
  const any = (name: string) => int(name, -(2 ** 31), 2 ** 31 - 1);
  const d = MAP_BENCHMARK_DEFAULTS;
  machineOptions(root.command('map-benchmark'))
    .description('kernel/dma/map_benchmark.c driven as tools/testing/selftests/dma/dma_map_benchmark does')
    .option('-t, --threads <n>', 'threads', any('-t'), d.threads)
    .option('-s, --seconds <n>', 'test duration (simulated seconds)', any('-s'), d.seconds)
    .option('-n, --node <n>', 'NUMA node', any('-n'), d.node)
    .option('-b, --dma-bits <n>', 'DMA mask bits', any('-b'), d.dmaBits)
    .option('-d, --dir <n>', 'direction: 0 BIDIRECTIONAL, 1 TO_DEVICE, 2 FROM_DEVICE', any('-d'), d.dir)
    .option('-x, --trans-delay <ns>', 'delay between map and unmap', any('-x'), d.transDelayNs)
    .option('-g, --granule <n>', 'pages per map, or sg entries in sg mode', any('-g'), d.granule)
    .option('-m, --mode <n>', 'map mode: 0 single, 1 sg', any('-m'), d.mode)
    .action(async (f: MachineFlags & { threads: number; seconds: number; node: number; dmaBits: number; dir: number; transDelay: number; granule: number; mode: number }) => {
      const o = { threads: f.threads, seconds: f.seconds, node: f.node, dmaBits: f.dmaBits, dir: f.dir, transDelayNs: f.transDelay, granule: f.granule, mode: f.mode };
      const bad = checkMapBenchmarkOptions(o);
      if (bad !== null) throw new UsageError(bad);
      const m = await bootMachine(f);
      const bar = progressBar(f.json);
      const r = await runMapBenchmark(m, o as MapBenchmarkOptions, { onProgress: (x) => bar.update(x) });
      bar.stop();
      const json = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);
      if (f.json) print([JSON.stringify({ ...r, ...dataCheckJson(m) }, json)]);
      else print(r.error === null ? r.lines : [...r.lines, r.error]);
      setExit(r.error === null ? 0 : 1);
    });

  machineOptions(root.command('dmapool-test'))
    .description('mm/dmapool_test.c: alloc-all/free-all rounds over its six pool geometries')
    .option('--iterations <n>', 'rounds per geometry (NR_TESTS)', int('--iterations', 1, 1000), 100)
    .action(async (f: MachineFlags & { iterations: number }) => {
      const m = await bootMachine(f);
      const bar = progressBar(f.json);
      const r = await runDmapoolTest(m, { iterations: f.iterations, onProgress: (x) => bar.update(x) });
      bar.stop();
      print(f.json ? [JSON.stringify({ ...r, ...dataCheckJson(m) })] : r.error === null ? r.lines : [...r.lines, r.error]);
      setExit(r.error === null ? 0 : 1);
    });

  root.command('barriers')
    .description('batched vs per-buffer DSBs over sg list lengths and entry sizes: DC ops, barriers, model and wall time, and an SVG chart')
    .option('--entries <list>', 'sg list lengths, comma-separated', list('--entries', 1, 65536), [...BARRIER_SWEEP_DEFAULTS.entries])
    .option('--sizes <list>', 'bytes per sg entry, comma-separated', list('--sizes', 1, 1 << 20), [...BARRIER_SWEEP_DEFAULTS.entrySizes])
    .addOption(new Option('--op <op>', 'the timed call').choices(['map', 'unmap', 'sync_for_device', 'sync_for_cpu']).default('map'))
    .addOption(new Option('--dir <dir>', 'DMA direction: 0 BIDIRECTIONAL, 1 TO_DEVICE, 2 FROM_DEVICE').choices(['0', '1', '2']))
    .option('--svg <file>', 'where to write the chart', 'dmasim-barriers.svg')
    .option('--seed <n>', 'seed', int('--seed', 0, 0xffff_ffff), 1)
    .option('--json', 'machine-readable output', false)
    .action(async (f: { entries: number[]; sizes: number[]; op: BarrierOp; dir?: string; svg: string; seed: number; json: boolean }) => {
      const bar = progressBar(f.json);
      const dir = f.dir === undefined ? (f.op === 'unmap' || f.op === 'sync_for_cpu' ? 2 : 1) : (Number(f.dir) as 0 | 1 | 2);
      const r = await runBarrierSweep({ entries: f.entries, entrySizes: f.sizes, op: f.op, dir, seed: f.seed, onProgress: (x) => bar.update(x) });
      bar.stop();
      writeFileSync(f.svg, await barrierChartSvg(r));
      print(f.json ? [JSON.stringify(r)] : [...formatBarrierTable(r), `chart: ${f.svg}`]);
      setExit(0);
    });

  machineOptions(root.command('debugfs'))
    .description('after a short NIC run, print a /sys/kernel/debug file or list a directory')
    .argument('[path]', 'a file or directory', '/sys/kernel/debug')
    .action(async (path: string, f: MachineFlags) => {
      const m = await afterRun(f);
      const dir = path.replace(/\/$/, '');
      let out: string;
      try {
        out = m.debugfs.read(dir);
      } catch {
        out = m.debugfs.list(dir).join('\n') + '\n';
      }
      process.stdout.write(out);
      setExit(0);
    });

  machineOptions(root.command('dmesg'))
    .description('after a short NIC run, print the kernel log')
    .action(async (f: MachineFlags) => {
      print((await afterRun(f)).dmesg());
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

/** `dmasim report <command ...>`: exit 1 when the replay found anything. */
async function report(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const s = await replay(args.filter((a) => a !== '--json'), main);
  print(json ? [JSON.stringify(s)] : summaryLines(s));
  return s.reports > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'report') return report(argv.slice(1));
  let code = 0;
  try {
    await program((c) => { code = c; }).parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`dmasim: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return code;
}

// `dmasim ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
