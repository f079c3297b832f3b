// The dmasim command line. Exit codes: 0 ok, 1 data corruption or debug errors found, 2 bad usage.

import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';

const USAGE = `usage: dmasim [demo] [--arch arm64|x86_64] [--seed N]

  demo   show how a write-back CPU cache breaks DMA on a non-coherent machine, and the fixes
         (the default command)

options:
  --arch   arm64 (non-coherent devices, the default) or x86_64 (DMA-coherent)
  --seed   seed of every random choice (default 1)
  --help   this text`;

class UsageError extends Error {}

function parse(argv: string[]): { command: string; arch: 'arm64' | 'x86_64'; seed: number; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { arch: { type: 'string', default: 'arm64' }, seed: { type: 'string', default: '1' }, help: { type: 'boolean', default: false } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'demo';
  if (command !== 'demo' || positionals.length > 1) throw new UsageError(`unknown command '${positionals.join(' ')}'`);
  if (values.arch !== 'arm64' && values.arch !== 'x86_64') throw new UsageError(`--arch must be arm64 or x86_64, got '${values.arch}'`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new UsageError(`--seed must be an integer in 0..4294967295, got '${values.seed}'`);
  return { command, arch: values.arch, seed, help: values.help };
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`dmasim: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const line of await runDemo(args)) process.stdout.write(`${line}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
