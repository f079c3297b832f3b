// Every --json result carries the dmasim version, the command, the machine's full configuration
// (createMachine's option names, defaults filled in), the seed and m.stats(); debugfs and dmesg
// honour --json too.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { dmasim } from '../support/cli.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Envelope {
  dmasim: string;
  command: string;
  seed: number;
  configuration: Record<string, unknown> & { cache: Record<string, unknown>; costModel: Record<string, number>; ram: unknown[] };
  stats: Record<string, number>;
}

function expectEnvelope(out: string, command: string): Envelope & Record<string, unknown> {
  const j = JSON.parse(out) as Envelope & Record<string, unknown>;
  expect(j.dmasim).toBe(version);
  expect(j.command).toBe(command);
  expect(j.seed).toBe(1);
  expect(Object.keys(j.configuration).sort()).toEqual(['arch', 'cache', 'cmdline', 'config', 'costModel', 'dataCheck', 'load', 'ram', 'seed'].sort());
  expect(Object.keys(j.configuration.cache).sort()).toEqual(['lineSize', 'replacement', 'size', 'ways']);
  expect(j.configuration.costModel.dsbNs).toBeGreaterThan(0);
  expect(j.configuration.ram.length).toBeGreaterThan(0);
  expect(typeof j.stats.cacheMaintenanceOps).toBe('number');
  expect(typeof j.stats.barriers).toBe('number');
  return j;
}

test('nic --json: the envelope, the NIC options and the report; a broken driver exits 1', () => {
  const r = dmasim(['nic', '--packets', '2000', '--mode', 'recycle', '--bug', 'no-sync-for-cpu', '--json']);
  expect(r.code).toBe(1);
  const j = expectEnvelope(r.out, 'nic');
  expect(j.packets).toBe(4000);
  expect(j.corrupted).toBeGreaterThan(0);
  expect(j.options).toMatchObject({ packets: 2000, mode: 'recycle', bug: 'no-sync-for-cpu' });
  expect(j.stats.cacheMaintenanceOps).toBe(j.cacheMaintenanceOps);
});

test('debugfs --json and dmesg --json', () => {
  const fs = dmasim(['debugfs', '/sys/kernel/debug/swiotlb', '--json']);
  expect(fs.code).toBe(0);
  expect(expectEnvelope(fs.out, 'debugfs').entries).toContain('io_tlb_used_hiwater');
  const file = expectEnvelope(dmasim(['debugfs', '/sys/kernel/debug/swiotlb/io_tlb_nslabs', '--json']).out, 'debugfs');
  expect(file.file).toMatch(/^\d+\n$/);
  const log = expectEnvelope(dmasim(['dmesg', '--json']).out, 'dmesg');
  expect(log.dmesg).toEqual(expect.arrayContaining([expect.stringContaining('software IO TLB: mapped [mem')]));
});

test('map-benchmark and dmapool-test --json', () => {
  const mb = expectEnvelope(dmasim(['map-benchmark', '-s', '1', '--json']).out, 'map-benchmark');
  expect(mb.loops).toBeGreaterThan(0);
  const dp = expectEnvelope(dmasim(['dmapool-test', '--iterations', '1', '--json']).out, 'dmapool-test');
  expect(dp.results).toHaveLength(6);
});

test('barriers --json names the version, the sweep configuration, the seed and both machines\' m.stats()', () => {
  const j = JSON.parse(dmasim(['barriers', '--entries', '16', '--sizes', '512', '--repeat', '1', '--json']).out) as Record<string, unknown> & { stats: Record<'perBuffer' | 'batched', Record<string, number>> };
  expect(j).toMatchObject({ dmasim: version, command: 'barriers', seed: 1, configuration: { arch: 'arm64', entries: [16], entrySizes: [512], op: 'map' } });
  expect(j.stats.perBuffer.barriers).toBeGreaterThan(j.stats.batched.barriers ?? Infinity);
  expect(j.stats.batched.cacheMaintenanceOps).toBe(j.stats.perBuffer.cacheMaintenanceOps);
});
