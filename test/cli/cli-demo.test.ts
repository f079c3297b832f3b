// `dmasim demo` shows the four effects its help promises: missing clean, missing invalidate,
// a shared cache line, and a speculative fill during the DMA; each stale on non-coherent arm64.
import { expect, test } from 'vitest';
import { dmasim } from '../support/cli.js';

test('four scenarios, each showing the stale or lost data on arm64', () => {
  const r = dmasim(['demo']);
  expect(r.code).toBe(0);
  const scenarios = r.out.split('\n== ').slice(1);
  expect(scenarios).toHaveLength(4);
  for (const s of scenarios) expect(s).toMatch(/<- (stale|the device's data is gone)/);
  expect(dmasim(['--help']).out).toMatch(/demo \[options\] +the four ways/);
});

test('on x86_64 (coherent) none of the four goes wrong', () => {
  const r = dmasim(['demo', '--arch', 'x86_64']);
  expect(r.out.split('\n== ').slice(1)).toHaveLength(4);
  expect(r.out).not.toContain('<-');
});
