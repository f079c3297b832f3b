// `dmasim barriers` writes its SVG chart only when asked (--svg), never with --json alone.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { dmasim } from '../support/cli.js';

const SMALL = ['barriers', '--entries', '16', '--sizes', '512', '--repeat', '1'];

test('no --svg, no file, with or without --json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-'));
  expect(dmasim(SMALL, dir).code).toBe(0);
  expect(dmasim([...SMALL, '--json'], dir).code).toBe(0);
  expect(readdirSync(dir)).toEqual([]);
});

test('--svg writes the chart after the table', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'dmasim-')), 'b.svg');
  const r = dmasim([...SMALL, '--svg', file]);
  expect(r.code).toBe(0);
  expect(r.out.trimEnd().split('\n').at(-1)).toBe(`chart: ${file}`);
  expect(existsSync(file) && readFileSync(file, 'utf8').startsWith('<svg')).toBe(true);
});
