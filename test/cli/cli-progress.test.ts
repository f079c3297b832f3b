// The CLI's progress bar: no `ETA INFs`/`ETA NULLs` (the ETA is left out until it can be
// estimated), and no hidden cursor that Ctrl-C could leave behind (nor a SIGINT handler that
// would keep Ctrl-C from stopping a synchronous run).
import { expect, test } from 'vitest';
import { formatBar, formatEta, progressBar } from '../../src/cli/progress.js';

test('the ETA is blank until there is progress to extrapolate, then a finite time', () => {
  expect(formatEta(5000, 0)).toBe('');
  expect(formatEta(5000, NaN)).toBe('');
  expect(formatEta(5000, 1)).toBe('');
  expect(formatEta(1000, 0.5)).toBe('ETA 1s');
  expect(formatEta(60_000, 0.25)).toBe('ETA 3m00s');
  expect(formatBar(0, '')).toBe(`[${'.'.repeat(30)}]   0%`);
  expect(formatBar(0.5, 'ETA 1s')).toMatch(/^\[#{15}\.{15}\]  50% \| ETA 1s$/);
  expect(formatBar(NaN, '')).not.toMatch(/NaN|INF|NULL/i);
});

function fakeTerminal(): { isTTY: boolean; text: string; write(s: string): boolean } {
  return { isTTY: true, text: '', write(s: string) { this.text += s; return true; } };
}

test('the bar never hides the cursor nor takes Ctrl-C, and stop() erases it', () => {
  const tty = fakeTerminal();
  const before = process.listenerCount('SIGINT');
  const bar = progressBar(true, tty, 0);
  bar.update(0);
  bar.update(0.5);
  expect(tty.text).toContain('50%');
  expect(tty.text).not.toContain('\x1b[?25l');
  expect(tty.text).not.toMatch(/INF|NULL|NaN/);
  expect(process.listenerCount('SIGINT')).toBe(before);
  bar.stop();
  expect(tty.text.endsWith('\r\x1b[2K')).toBe(true);
});

test('no bar off a terminal, or when disabled (--json)', () => {
  const pipe = { ...fakeTerminal(), isTTY: false };
  progressBar(true, pipe, 0).update(0.5);
  const quiet = fakeTerminal();
  progressBar(false, quiet, 0).update(0.5);
  expect(pipe.text + quiet.text).toBe('');
});
