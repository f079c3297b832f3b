// The CLI sets every createMachine option: --ram, --cache-*, --cost, and --config <file.json>
// with createMachine's own names, flags typed on the command line overriding the file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { dmasim, expectOneLineFailure } from '../support/cli.js';

interface Conf {
  arch: string;
  seed: number;
  ram: { base: number; size: number }[];
  cache: { size: number; ways: number; lineSize: number; replacement: string };
  costModel: Record<string, number>;
  config: Record<string, boolean>;
}

const configurationOf = (args: string[]): Conf => (JSON.parse(dmasim(['dmesg', '--json', ...args]).out) as { configuration: Conf }).configuration;

test('--ram, --cache-size/-ways/-line/-replacement and --cost reach the machine', () => {
  const c = configurationOf(['--ram', '0x40000000:32M,0x100000000:16M', '--cache-size', '256K', '--cache-ways', '8', '--cache-line', '128', '--cache-replacement', 'random', '--cost', 'dsbNs=100,mapNs=30']);
  expect(c.ram).toEqual([{ base: 0x4000_0000, size: 32 << 20 }, { base: 0x1_0000_0000, size: 16 << 20 }]);
  expect(c.cache).toEqual({ size: 256 << 10, ways: 8, lineSize: 128, replacement: 'random' });
  expect(c.costModel).toMatchObject({ dsbNs: 100, mapNs: 30 });
});

test('--config takes createMachine options; a typed flag overrides the file, an untyped default does not', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dmasim-')), 'machine.json');
  writeFileSync(file, JSON.stringify({ arch: 'x86_64', seed: 7, cache: { size: 1 << 19 }, config: { DMA_API_DEBUG: true }, costModel: { mapNs: 11 } }));
  const c = configurationOf(['--config', file]);
  expect([c.arch, c.seed, c.cache.size, c.config.DMA_API_DEBUG, c.costModel.mapNs]).toEqual(['x86_64', 7, 1 << 19, true, 11]);
  expect(configurationOf(['--config', file, '--seed', '9', '--arch', 'arm64']).seed).toBe(9);
  expect(configurationOf(['--config', file, '--seed', '9', '--arch', 'arm64']).arch).toBe('arm64');
});

test('a configuration file with an unknown option, or that is not JSON, is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-'));
  writeFileSync(join(dir, 'a.json'), '{"cachesize": 4096}');
  writeFileSync(join(dir, 'b.json'), '{');
  expectOneLineFailure(dmasim(['dmesg', '--config', join(dir, 'a.json')]), 2, /unknown option cachesize/);
  expectOneLineFailure(dmasim(['dmesg', '--config', join(dir, 'b.json')]), 2, /not JSON/);
  expectOneLineFailure(dmasim(['dmesg', '--config', join(dir, 'missing.json')]), 2, /ENOENT/);
});

test('--warmup and --repeat: the timed runs are reported, each on a fresh machine with the same counters', () => {
  const j = JSON.parse(dmasim(['nic', '--packets', '300', '--warmup', '1', '--repeat', '3', '--json']).out) as { wallSecondsPerRun: number[]; verified: number };
  expect(j.wallSecondsPerRun).toHaveLength(3);
  expect(j.verified).toBe(600);
});
