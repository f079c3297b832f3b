// The built bundles work as an embedder uses them: the ESM and CommonJS entries are one library
// (the CommonJS entry re-exports the ES module), the engine travels inside the bundle, and an
// embedder can hand in the engine's bytes instead (a custom build, a host with its own loader).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

const dist = new URL('../../dist/', import.meta.url);
type Api = typeof import('../../src/index.js');

async function roundTrip(api: Api, opts: Parameters<Api['createMachine']>[0] = {}): Promise<number[]> {
  const m = await api.createMachine(opts);
  const dev = m.createDevice({ name: 'd' });
  const p = m.kmalloc(64, api.GFP_KERNEL);
  m.cpu.write(p, [1, 2, 3]);
  m.cache.clean(m.virt_to_phys(p), 3);
  return [...dev.dmaRead(m.virt_to_phys(p), 3)];
}

test('the ESM bundle runs with the engine it carries', async () => {
  const api = (await import(new URL('index.js', dist).href)) as Api;
  expect(await roundTrip(api)).toEqual([1, 2, 3]);
});

// (That require() and import() share classes is checked in plain Node by tarball.test.ts: vitest
// loads an import() through its own module runner.)
test('the CJS entry requires the ES module and runs', async () => {
  const cjs = createRequire(import.meta.url)(new URL('index.cjs', dist).pathname) as Api;
  expect(await roundTrip(cjs)).toEqual([1, 2, 3]);
});

test('an embedder can pass the engine as bytes', async () => {
  const api = (await import(new URL('index.js', dist).href)) as Api;
  const bytes = new Uint8Array(readFileSync(new URL('../../build/core.baseline.wasm', import.meta.url)));
  expect(await roundTrip(api, { core: bytes })).toEqual([1, 2, 3]);
});

test('a file: URL for the engine is refused with what to do instead', async () => {
  const api = (await import(new URL('index.js', dist).href)) as Api;
  await expect(api.createMachine({ core: new URL('../../build/core.wasm', import.meta.url) })).rejects.toThrow(/pass the bytes instead/);
});

test('the library bundle imports no Node builtin and no package', () => {
  const imports = (file: string): string[] => [...readFileSync(new URL(file, dist), 'utf8').matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\)/g)].map((m) => (m[1] ?? m[2]) as string);
  const lib = ['index.js', 'workloads.js'];
  const seen = new Set<string>();
  while (lib.length > 0) {
    const f = lib.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const spec of imports(f)) {
      expect(spec, `${f} imports ${spec}`).toMatch(/^\.\//);
      lib.push(spec.slice(2));
    }
  }
  expect(seen.size).toBeGreaterThan(2);
});
