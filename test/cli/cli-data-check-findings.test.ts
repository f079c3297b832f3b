// Findings readable from the CLI: --data-check prints each report (the first 10 in full, then
// how many more); --json carries the report objects; `dmasim report <command>` replays the run
// with the checker on and summarises the reports by kind and site, exiting 1 when it found any.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const BUGGY = ['nic', '--packets', '100', '--mode', 'recycle', '--bug', 'no-sync-for-cpu'];

function dmasim(...args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout };
}

test('--data-check prints the first 10 reports and counts the rest', () => {
  const r = dmasim(...BUGGY, '--data-check');
  const n = Number(/^data-check: (\d+) reports$/m.exec(r.out)?.[1]);
  expect(n).toBeGreaterThan(10);
  expect(r.out.match(/^BUG: DMA-API /gm)).toHaveLength(10);
  expect(r.out).toContain(`... and ${n - 10} more data-check reports`);
});

test('--json carries every report as an object', () => {
  const r = dmasim(...BUGGY, '--data-check', '--json');
  const j = JSON.parse(r.out) as { dataCheck: { reports: { kind: string; mapping: { call: string } }[] } };
  expect(j.dataCheck.reports.length).toBeGreaterThan(10);
  expect(j.dataCheck.reports[0]?.mapping.call).toBe('dma_map_single');
});

test('report replays a command and summarises by kind and site', () => {
  const r = dmasim('report', ...BUGGY, '--json');
  expect(r.code).toBe(1);
  const s = JSON.parse(r.out) as { reports: number; kinds: { kind: string; count: number; sites: { site: string; count: number }[] }[] };
  expect(s.reports).toBe(s.kinds.reduce((a, k) => a + k.count, 0));
  for (const k of s.kinds) expect(k.count).toBe(k.sites.reduce((a, x) => a + x.count, 0));
  const text = dmasim('report', ...BUGGY).out;
  expect(text).toContain(`data-check reports: ${s.reports}`);
  expect(dmasim('report', 'nic', '--packets', '100').code).toBe(0);
});
