// Bundles the host into dist/ (after `npm run build:wasm` has built build/*.wasm):
// - the library, once: ESM entries (index, workloads, devices) over shared chunks, platform-neutral, the
//   engine inlined, no Node builtin and no dependency in its import graph;
// - CommonJS entries that re-export it (Node >= 20.19 loads ESM through require()), so a machine
//   made through `import` and a function obtained through `require` share every class;
// - the CLI, which imports the library's built entries and bundles what only it needs (commander);
// - declarations for both module systems, and source maps.
// Then it writes the build stamp (scripts/build-stamp.mjs) so `npm test`/`npm start` can skip it.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeStamp } from './build-stamp.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The library's public entries: dist/<name>.js from src/<file>. */
const ENTRIES = { index: 'src/index.ts', workloads: 'src/workloads/index.ts', devices: 'src/devices/index.ts', check: 'src/checker/index.ts' };
/** Files the entries load at run time: dmasim/check's worker threads run this one. */
const WORKERS = { 'check-worker': 'src/checker/worker.ts' };
/**
 * dmasim/check is Node-only (worker threads over tinypool, the one runtime dependency, which the
 * issue allows for its pool): only its own files may import Node builtins, tinypool, and esbuild
 * (optional: loaded only to run a .ts driver module, and reported if absent).
 */
const NODE_ONLY = join(root, 'src/checker/');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

const common = {
  bundle: true,
  sourcemap: true,
  // Maps without the sources' text: stack traces still name src/ files and lines (node
  // --enable-source-maps), and the install stays within its budget.
  sourcesContent: false,
  target: 'es2022',
  logLevel: 'warning',
  absWorkingDir: root,
  define: { DMASIM_VERSION: JSON.stringify(pkg.version) },
};

await build({
  ...common,
  entryPoints: { ...ENTRIES, ...WORKERS },
  platform: 'neutral',
  format: 'esm',
  splitting: true,
  outdir: dist,
  chunkNames: 'lib-[hash]',
  loader: { '.wasm': 'binary' },
  // Anything that is not our own source would be a runtime dependency of the library.
  plugins: [{
    name: 'no-dependencies',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (a) => (a.importer.startsWith(NODE_ONLY) && /^(node:|tinypool$|esbuild$)/.test(a.path)
        ? { path: a.path, external: true }
        : { errors: [{ text: `the library may not import ${a.path} (from ${relative(root, a.importer)})` }] }));
    },
  }],
});

for (const name of Object.keys(ENTRIES)) {
  writeFileSync(join(dist, `${name}.cjs`), `'use strict';\n// The ESM build, loaded through require(esm): one copy of the library, whichever way it is loaded.\nmodule.exports = require('./${name}.js');\n`);
}

// The CLI reaches the library only through its entries, which stay external and are the very files above.
const entryOf = new Map(Object.entries(ENTRIES).map(([name, file]) => [join(root, file), `./${name}.js`]));
await build({
  ...common,
  entryPoints: { cli: 'src/cli/index.ts' },
  platform: 'node',
  format: 'esm',
  outdir: dist,
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __dmasimCreateRequire } from 'node:module';\nconst require = __dmasimCreateRequire(import.meta.url);" },
  plugins: [{
    name: 'library-external',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (a) => {
        if (!a.importer.startsWith(join(root, 'src/cli/'))) return undefined;
        const target = resolve(dirname(a.importer), a.path).replace(/\.js$/, '.ts');
        if (target.startsWith(join(root, 'src/cli/'))) return undefined;
        const entry = entryOf.get(target);
        if (entry === undefined) return { errors: [{ text: `the CLI must import the library through an entry (${[...entryOf.keys()].map((f) => relative(root, f)).join(', ')}), not ${relative(root, target)}` }] };
        return { path: entry, external: true };
      });
    },
  }],
});
execFileSync('chmod', ['+x', join(dist, 'cli.js')]);

// ---- declarations ------------------------------------------------------------------------------

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

/**
 * What consumers must not see or cannot compile: private members (implementation, and they make
 * classes nominal), and generic typed arrays (TypeScript 5.7+; `Uint8Array` means the same to
 * every version that has them).
 */
function forConsumers(text) {
  return text
    .replace(/^\s*(?:private|#private)\b[^\n]*;\n/gm, '')
    .replace(/\b((?:Big)?(?:Ui|I)nt(?:8|16|32|64)(?:Clamped)?Array|Float(?:32|64)Array)<[^<>]*>/g, '$1');
}

const types = join(dist, 'types');
for (const f of files(types)) writeFileSync(f, forConsumers(readFileSync(f, 'utf8')));

// The runtime globals the declarations name, declared empty so that they merge with the DOM or
// @types/node where a consumer has them and stand alone where it has neither.
writeFileSync(join(types, 'globals.d.ts'), `// Globals dmasim's declarations name. Empty interfaces merge with lib.dom or @types/node.
declare global {
  namespace WebAssembly {
    interface Module {}
    interface Memory {}
  }
  interface URL {}
  interface AbortSignal {}
}
export {};
`);

// One set of declarations serves both entries: their folder is CommonJS, which an ESM entry may
// re-export and a CommonJS entry may require (TypeScript before 5.8 refuses require of ESM).
writeFileSync(join(types, 'package.json'), '{ "type": "commonjs" }\n');
for (const [name, file] of Object.entries(ENTRIES)) {
  const body = `/// <reference path="./types/globals.d.ts" />\nexport * from './types/${file.replace(/\.ts$/, '.js')}';\n`;
  writeFileSync(join(dist, `${name}.d.ts`), body);
  writeFileSync(join(dist, `${name}.d.cts`), body);
}

writeStamp();
const size = [...files(dist)].reduce((n, f) => n + statSync(f).size, 0);
console.log(`dist: ${(size / 1024).toFixed(0)} KiB`);
