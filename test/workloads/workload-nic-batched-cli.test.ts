// `dmasim nic` runs the driver of the NIC device model by default; --api batched takes the
// by-hand line-rate path and --api per-call the same steps call by call; the output and --json
// say which path ran, and why the batched one did not when it could not.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function dmasim(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Json { api: string; apiFallback: string | null; packets: number; verified: number; barriers: number; cacheMaintenanceOps: number; modelNsPerPacket: number }

test('the default path is the model driver', () => {
  const r = dmasim('nic', '--packets', '500');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^api +model \(the dmasim_nic driver/m);
  expect(r.out).toMatch(/^packets +\d+ \(\d+ verified, 0 corrupted, 0 DMA faults\)$/m);
});

test('--api batched and --api per-call give the same counts', () => {
  const batched = dmasim('nic', '--packets', '2000', '--api', 'batched');
  expect(batched.code).toBe(0);
  expect(batched.out).toMatch(/^api +batched/m);
  const perCall = dmasim('nic', '--packets', '2000', '--api', 'per-call');
  expect(perCall.code).toBe(0);
  expect(perCall.out).toMatch(/^api +per-call$/m);
  const lines = (out: string): string[] => out.split('\n').filter((l) => /^(packets|model time|cache ops|bounces) /.test(l));
  expect(lines(batched.out)).toEqual(lines(perCall.out));
});

test('--json carries the path that ran and the reason for a fallback', () => {
  const a = JSON.parse(dmasim('nic', '--packets', '500', '--json', '--api', 'batched').out) as Json;
  expect(a.api).toBe('batched');
  expect(a.apiFallback).toBeNull();
  const b = JSON.parse(dmasim('nic', '--packets', '500', '--json', '--api', 'batched', '--dma-bits', '32').out) as Json;
  expect(b.api).toBe('per-call');
  expect(b.apiFallback).toMatch(/swiotlb/);
  expect(b.verified).toBe(1000);
});

test('an unknown --api exits 2 with one line naming the option', () => {
  const r = dmasim('nic', '--api', 'sideways');
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toContain('--api');
});
