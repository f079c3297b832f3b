// Every failure of the CLI is one line on stderr and no stack trace: exit 2 for usage (a bad
// option, an unknown command, a missing debugfs path, an unwritable --svg, a configuration the
// machine refuses), exit 1 for a workload that failed. Issues 13 (item 14) and 17.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { dmasim, expectOneLineFailure } from '../support/cli.js';

test('an unknown command is reported as one, not as an extra argument to nic', () => {
  expectOneLineFailure(dmasim(['frobnicate']), 2, /unknown command 'frobnicate'/);
});

test('a bad option value or an unknown option names the option', () => {
  expectOneLineFailure(dmasim(['nic', '--ring-size', '0']), 2, /--ring-size/);
  expectOneLineFailure(dmasim(['nic', '--frobnicate']), 2, /--frobnicate/);
  expectOneLineFailure(dmasim(['nic', '--mode', 'sideways']), 2, /--mode/);
  // The limits are the workload's own (src/workloads/options.ts NIC_LIMITS: a PCI device has 32 bits at least).
  expectOneLineFailure(dmasim(['nic', '--dma-bits', '24']), 2, /--dma-bits must be an integer in 32\.\.64/);
  expectOneLineFailure(dmasim(['dmapool-test', '--iterations', '1001']), 2, /--iterations must be an integer in 1\.\.1000/);
});

test('a debugfs path that does not exist', () => {
  expectOneLineFailure(dmasim(['debugfs', '/nope']), 2, /\/nope: No such file or directory/);
});

test('an --svg that cannot be written: exit 2, and the results table is printed first', () => {
  const r = dmasim(['barriers', '--entries', '16', '--sizes', '512', '--repeat', '1', '--svg', '/nonexistent-dir/chart.svg']);
  expectOneLineFailure(r, 2, /--svg \/nonexistent-dir\/chart\.svg: ENOENT/);
  expect(r.out).toMatch(/^\s+16\s+512 B\s/m);
});

test('a machine configuration createMachine refuses is a usage error naming the option', () => {
  expectOneLineFailure(dmasim(['dmesg', '--cache-size', '3000']), 2, /cache\.size/);
});

test('whatever the run throws, the user sees one line and no stack', () => {
  const r = dmasim(['dmesg', '--cmdline', 'swiotlb=99999999999999999999']);
  if (r.code !== 0) expectOneLineFailure(r, r.code, /./);
  expect(r.err).not.toMatch(/^\s+at /m);
});

test('--help and --version exit 0', () => {
  expect(dmasim(['--help']).code).toBe(0);
  expect(dmasim(['barriers', '--help']).code).toBe(0);
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-'));
  expect(dmasim(['--version'], dir).code).toBe(0);
});
