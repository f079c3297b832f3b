// The built bundles work as an embedder would use them: ESM and CJS each find core.wasm beside
// themselves, and an embedder can hand in the engine's bytes instead (bundlers, workers).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

const dist = new URL('../../dist/', import.meta.url);

async function roundTrip(api: { createMachine: (o?: object) => Promise<{ createDevice(o: object): { dmaRead(a: number, n: number): Uint8Array }; kmalloc(n: number, g: number): number; virt_to_phys(p: number): number; cpu: { write(p: number, b: number[]): void }; cache: { clean(p: number, n: number): void } }> }, opts: object = {}): Promise<number[]> {
  const m = await api.createMachine(opts);
  const dev = m.createDevice({ name: 'd' });
  const p = m.kmalloc(64, 0xcc0);
  m.cpu.write(p, [1, 2, 3]);
  m.cache.clean(m.virt_to_phys(p), 3);
  return [...dev.dmaRead(m.virt_to_phys(p), 3)];
}

test('the ESM bundle loads core.wasm from beside itself', async () => {
  const api = await import(new URL('index.js', dist).href);
  expect(await roundTrip(api)).toEqual([1, 2, 3]);
});

test('the CJS bundle loads core.wasm from beside itself', async () => {
  const api = createRequire(import.meta.url)(new URL('index.cjs', dist).pathname);
  expect(await roundTrip(api)).toEqual([1, 2, 3]);
});

test('an embedder can pass the engine as bytes', async () => {
  const api = await import(new URL('index.js', dist).href);
  const bytes = new Uint8Array(readFileSync(new URL('core.baseline.wasm', dist)));
  expect(await roundTrip(api, { core: bytes })).toEqual([1, 2, 3]);
});
