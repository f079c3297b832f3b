// Runs the built CLI (dist/cli.js, built by npm test's pretest) as a user runs it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export function dmasim(args: readonly string[], cwd?: string): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1', DMASIM_STACK: '' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A failure as README promises it: this exit code, one line on stderr naming what went wrong, no stack. */
export function expectOneLineFailure(r: CliRun, code: number, mentions: string | RegExp): void {
  expect(r.code).toBe(code);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^dmasim: /);
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(r.err).toMatch(mentions);
}
