// src/engine/port.ts is the only caller of the engine's exports and the only writer of its
// scratch area, and the data-aware checker's probes fire only inside its methods: an engine
// access elsewhere could forget the probe, and a second copy of the staging could drift.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(src, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** The engine's exports, as src/engine/core.ts types them. */
const exportsOfCore = [...readFileSync(join(src, 'engine/core.ts'), 'utf8')
  .split('export interface CoreExports {')[1]!.split('\n}')[0]!.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);

const outside = sources('').filter((f) => !f.startsWith('engine/'));

test('the engine has exports to look for', () => {
  expect(exportsOfCore).toContain('cpuRead');
  expect(exportsOfCore).toContain('ringPost');
});

test('no file outside src/engine calls an engine export', () => {
  const calls = new RegExp(`\\bcore\\.(${exportsOfCore.join('|')})\\(`);
  expect(outside.filter((f) => calls.test(readFileSync(join(src, f), 'utf8')))).toEqual([]);
});

test('no file outside src/engine touches the scratch area or fires a data-check probe', () => {
  const touches = /layout\.scratch\b|dataCheck\??\.(cpuAccess|cpuCopy|maintenance|deviceAccess)\(/;
  expect(outside.filter((f) => touches.test(readFileSync(join(src, f), 'utf8')))).toEqual([]);
});
