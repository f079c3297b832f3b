// README's TypeScript examples run as shown: each ```ts block, unmodified, is saved as a module
// inside the package (build/readme-examples/), where `import ... from 'dmasim'` resolves to the
// built package by its own name, and run with node; and the blocks type-check under TypeScript
// 5.0 strict as .mts files. Documentation that cannot silently rot.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const dir = join(root, 'build/readme-examples');

test('README has TypeScript examples', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(2);
});

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const [i, code] of blocks.entries()) {
  test(`README example ${i + 1} runs as written`, () => {
    writeFileSync(join(dir, `example${i + 1}.mjs`), code);
    const r = spawnSync(process.execPath, [`example${i + 1}.mjs`], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
}

test('README examples type-check under TypeScript 5.0 strict', () => {
  const files = blocks.map((code, i) => {
    writeFileSync(join(dir, `example${i + 1}.mts`), code);
    return `example${i + 1}.mts`;
  });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', module: 'node16', moduleResolution: 'node16', lib: ['es2022'],
      types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
    },
    files,
  }));
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript-5.0/bin/tsc'), '-p', dir], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 180_000);
