// The CLI as a user runs it (dist/cli.js, built by npm test's pretest): each subcommand runs and
// its output parses (failures, --json and the machine options: test/cli/).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function dmasim(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('nic (the default command) reports verified packets and exits 0', () => {
  const r = dmasim('--packets', '2000');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^packets +4000 \(4000 verified, 0 corrupted, 0 DMA faults\)$/m);
  expect(r.out).toMatch(/^throughput +[\d.]+ Mpps wall/m);
});

test('debugfs and dmesg print what a short run left', () => {
  const fs = dmasim('debugfs', '/sys/kernel/debug/swiotlb');
  expect(fs.code).toBe(0);
  expect(fs.out.split('\n')).toContain('io_tlb_used_hiwater');
  const used = dmasim('debugfs', '/sys/kernel/debug/swiotlb/io_tlb_nslabs');
  expect(used.out).toMatch(/^\d+\n$/);
  const log = dmasim('dmesg');
  expect(log.out).toContain('software IO TLB: mapped [mem');
});

test('barriers prints the sweep table with the kernel comparison', () => {
  const r = dmasim('barriers', '--entries', '2560', '--sizes', '4096');
  expect(r.code).toBe(0);
  const row = r.out.split('\n').find((l) => /^\s+2560\s+4 KiB/.test(l));
  expect(row).toBeDefined();
  const model = /(-[\d.]+) %/.exec(row ?? '');
  expect(Number(model?.[1])).toBeLessThan(-55);
  expect(Number(model?.[1])).toBeGreaterThan(-75);
});

test('map-benchmark prints the selftest lines; its own option checks exit 2 with its message', () => {
  const r = dmasim('map-benchmark', '-s', '1', '-g', '4');
  expect(r.code).toBe(0);
  const lines = r.out.trim().split('\n');
  expect(lines[0]).toBe('dma mapping mode: 0');
  expect(lines[1]).toBe('dma mapping benchmark: threads:1 seconds:1 node:-1 dir:BIDIRECTIONAL granule/sg_nents: 4');
  expect(lines[2]).toMatch(/^average map latency\(us\):\d+\.\d standard deviation:\d+\.\d$/);
  expect(lines[3]).toMatch(/^average unmap latency\(us\):\d+\.\d standard deviation:\d+\.\d$/);
  const bad = dmasim('map-benchmark', '-b', '12');
  expect(bad.code).toBe(2);
  expect(bad.err.trim()).toBe('dmasim: invalid dma mask bit, must be in 20-64');
});

test('dmapool-test prints mm/dmapool_test.c lines', () => {
  const r = dmasim('dmapool-test', '--iterations', '1');
  expect(r.code).toBe(0);
  const lines = r.out.trim().split('\n');
  expect(lines).toHaveLength(6);
  for (const l of lines) expect(l).toMatch(/^dmapool test: size:\d+ +align:\d+ +blocks:\d+ +time:\d+$/);
});
