// The layer table of DESIGN.md, enforced: a file of src/ imports (value or type) only files of its
// own layer or a lower one. Every import is parsed, `import type` and `export ... from` included,
// so the Machine hub and its import cycles cannot come back.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** [path prefix, layer]: the longest matching prefix wins (so dma/mapping.ts is L6, not L4). */
const LAYERS: readonly (readonly [string, number])[] = [
  ['src/lib/', 0],
  ['src/include/', 0],
  ['assembly/', 1],
  ['src/engine/', 1],
  ['src/mm/', 2],
  ['src/hw/', 2],
  ['src/arch/', 3],
  ['src/dma/', 4],
  ['src/iommu/', 5],
  ['src/dma/mapping.ts', 6],
  ['src/dma/dmapool.ts', 6],
  ['src/check/', 6],
  ['src/machine.ts', 7],
  ['src/options.ts', 7],
  ['src/index.ts', 8],
  ['src/internal.ts', 8],
  ['src/devices/', 9],
  ['src/workloads/', 9],
  ['src/checker/', 9],
  ['src/cli/', 10],
];

function layerOf(file: string): number | undefined {
  let best: readonly [string, number] | undefined;
  for (const entry of LAYERS) {
    if (file.startsWith(entry[0]) && (best === undefined || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1];
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Every relative specifier a file imports or re-exports, static or dynamic, types included. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) specs.push(m[1] as string);
  return specs.map((s) => relative(root, normalize(join(root, dirname(file), s))).replace(/\.js$/, '.ts'));
}

const files = sources('src');
const edges = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

describe('the layer table (DESIGN.md)', () => {
  it('places every file of src/ in a layer', () => {
    expect(files.filter((f) => layerOf(f) === undefined)).toEqual([]);
  });

  it('finds imports to check', () => {
    expect(edges.length).toBeGreaterThan(100);
  });

  it('has no import that goes up the table', () => {
    const upward = edges
      .filter(({ from, to }) => (layerOf(to) ?? 0) > (layerOf(from) ?? 0))
      .map(({ from, to }) => `${from} (L${layerOf(from)}) -> ${to} (L${layerOf(to)})`);
    expect(upward).toEqual([]);
  });
});
