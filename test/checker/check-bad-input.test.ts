// What `dmasim check` does with bad input: a module that does not exist or exports no function
// and bad options are one-line usage errors (exit 2); a driver that never resolves, spins
// forever, throws a non-Error or exhausts the machine's memory is a finding, and the other
// configurations still run.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkJson, dmasimCheck } from '../support/check-helpers.js';

const FIX = 'test/checker/fixtures';
const SMALL = ['--matrix', 'dma=direct', '--matrix', 'iommu=none', '--matrix', 'load=off'];

function usage(args: string[], mention: string): void {
  const r = dmasimCheck(...args);
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/at .*\.js:\d+/);
  expect(r.err).toContain(mention);
}

describe('dmasim check, bad input', { timeout: 120_000 }, () => {
  it('refuses a module that does not exist, has no default function, or is not a module, in one line', () => {
    usage([`${FIX}/nothing-here.mjs`], 'nothing-here.mjs: no such file');
    usage([`${FIX}/no-default.mjs`], 'no-default.mjs: its default export is missing, not a function');
    usage([`${FIX}/README.txt`], 'a driver module is .mjs, .js or .ts');
  });

  it('refuses bad options and a bad --config file in one line naming them', () => {
    usage(['examples/rx-tx.mjs', '--matrix', 'iommu=sometimes'], 'sometimes is not a iommu value');
    usage(['examples/rx-tx.mjs', '--seeds', '0'], 'seeds must be an integer in 1..');
    usage(['examples/rx-tx.mjs', '--jobs', 'many'], '--jobs must be a whole number');
    usage(['examples/rx-tx.mjs', '--only', 'arm64/sideways'], 'sideways is not a configuration part');
    const dir = tmpdir();
    const bad = join(dir, `dmasim-check-${process.pid}.json`);
    writeFileSync(bad, JSON.stringify({ seeds: 1, colour: 'blue' }));
    usage(['examples/rx-tx.mjs', '--config', bad], 'unknown key "colour"');
    writeFileSync(bad, '{ not json');
    usage(['examples/rx-tx.mjs', '--config', bad], '--config');
  });

  it('reports a driver that never resolves as a timeout of that configuration, and runs the others', () => {
    const { code, result } = checkJson(`${FIX}/never-resolves.mjs`, '--timeout', '2000', ...SMALL);
    expect(code).toBe(1);
    expect(result.table.map((t) => [t.configuration, t.verdict])).toEqual([
      ['arm64/direct/iommu-none/load-off', 'timeout'],
      ['arm64-coherent/direct/iommu-none/load-off', 'clean'],
      ['x86_64/direct/iommu-none/load-off', 'clean'],
    ]);
    expect(result.findings[0]?.reproducer.command).toBe(`dmasim check ${FIX}/never-resolves.mjs --only arm64/direct/iommu-none/load-off --seed 1 --timeout 2000 --dmesg`);
  });

  it('stops a worker stuck in a synchronous loop, reports it, and the other workers finish', () => {
    const { code, result } = checkJson(`${FIX}/busy-loop.mjs`, '--timeout', '2000', '--jobs', '2', '--seeds', '2', ...SMALL);
    expect(code).toBe(1);
    const verdicts = result.runs.map((r) => `${r.configuration} ${r.seed} ${r.verdict}`);
    expect(verdicts).toEqual([
      'arm64/direct/iommu-none/load-off 1 clean', 'arm64/direct/iommu-none/load-off 2 clean',
      'arm64-coherent/direct/iommu-none/load-off 1 clean', 'arm64-coherent/direct/iommu-none/load-off 2 clean',
      'x86_64/direct/iommu-none/load-off 1 timeout', 'x86_64/direct/iommu-none/load-off 2 timeout',
    ]);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]?.line).toContain('its worker was stopped');
  });

  it('reports a thrown non-Error value as what it is', () => {
    const { result } = checkJson(`${FIX}/throws-non-error.mjs`, ...SMALL);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ kind: 'driver threw', line: 'threw a non-Error value: {"code":42,"why":"ring stalled"}' });
    expect(result.findings[0]?.configurations).toHaveLength(3);
  });

  it('reports exhausting the simulated memory as the kernel\'s allocation-failure warning at the driver line', () => {
    const { code, result } = checkJson(`${FIX}/exhausts-memory.mjs`, ...SMALL);
    expect(code).toBe(1);
    const warn = result.findings.find((f) => f.kind === 'WARN');
    expect(warn?.line).toMatch(/^swapper\/0: page allocation failure: order:10, mode:0xcc0\(GFP_KERNEL\)/);
    expect(warn?.siteLabel).toBe(`${FIX}/exhausts-memory.mjs:6`);
  });
});
