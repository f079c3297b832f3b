// Every constant of every assembly/abi*.ts is folded into that file's fingerprint, and the host
// compares every fingerprint with the engine's at load: a constant changed on one side only, or
// added without its fold, cannot cross the boundary unnoticed.
import { readdirSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { abiFingerprint } from '../../assembly/abi.js';
import { abiRingFingerprint } from '../../assembly/abi-ring.js';
import { smallMachine } from '../support/helpers.js';

const assembly = new URL('../../assembly/', import.meta.url);
const abiFiles = readdirSync(assembly).filter((f) => /^abi(-[a-z]+)?\.ts$/.test(f));
const coreTs = readFileSync(new URL('../../src/engine/core.ts', import.meta.url), 'utf8');

test('the ABI is split over abi.ts and abi-ring.ts', () => {
  expect(abiFiles.sort()).toEqual(['abi-ring.ts', 'abi.ts']);
});

for (const file of abiFiles) {
  const text = readFileSync(new URL(file, assembly), 'utf8');
  const fingerprint = /export function (abi\w*Fingerprint)\(\): number \{([\s\S]*?)\n\}/.exec(text);

  test(`${file}: every exported constant is folded into its fingerprint, once`, () => {
    expect(fingerprint).not.toBeNull();
    const constants = [...text.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
    const folded = [...(fingerprint?.[2] ?? '').matchAll(/h = fold\(h, (\w+)\);/g)].map((m) => m[1]);
    expect(folded).toEqual(constants);
  });

  test(`${file}: the host checks its fingerprint against the engine's at load`, () => {
    const name = fingerprint?.[1] ?? '';
    expect(coreTs).toContain(`raw.${name}?.(), ${name}()`);
  });
}

test('the engine and the host compute the same fingerprints', async () => {
  const m = await smallMachine();
  expect(m.core.abiFingerprint()).toBe(abiFingerprint());
  expect(m.core.abiRingFingerprint()).toBe(abiRingFingerprint());
});
