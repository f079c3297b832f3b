#!/usr/bin/env bash
# Bundles the host: the library as ESM (index, workloads, the checker and its worker share one
# chunk, so their classes are the same objects) and CJS, the CLI, the declarations, and the engine
# beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist && mkdir -p dist
# Dependencies (commander, cli-progress, vega) stay in node_modules, as a library's should.
common=(--bundle --platform=node --target=node20 --log-level=warning --define:CORE_WASM_DIR='"./"' --packages=external)
# Chunks sit beside the entries, so that whichever file the loader lands in finds core.wasm at ./.
npx esbuild index=src/index.ts workloads=src/workloads/index.ts check=src/checker/index.ts check-worker=src/checker/worker.ts "${common[@]}" --format=esm --splitting \
  --outdir=dist --chunk-names='[name]-[hash]'
# import.meta.url is empty in CJS output: define it from __filename so core.wasm is found beside the bundle.
# CJS has no shared chunks: one bundle holds both entry points, so that dmasim and dmasim/workloads
# share their classes, and each entry file hands out its half.
printf "export * as index from './src/index.ts';\nexport * as workloads from './src/workloads/index.ts';\n" |
  npx esbuild --sourcefile=dmasim-cjs.ts --loader=ts "${common[@]}" --format=cjs --outfile=dist/dmasim.cjs \
  --define:import.meta.url=__importMetaUrl \
  --banner:js="const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;"
echo "module.exports = require('./dmasim.cjs').index;" > dist/index.cjs
echo "module.exports = require('./dmasim.cjs').workloads;" > dist/workloads.cjs
# Splitting keeps vega (only `dmasim barriers` draws charts) out of every other command's startup.
npx esbuild cli=src/cli/index.ts "${common[@]}" --format=esm --splitting --outdir=dist --chunk-names='cli-[name]-[hash]' \
  --banner:js='#!/usr/bin/env node'
chmod +x dist/cli.js
cp build/core.wasm build/core.baseline.wasm dist/
npx tsc -p tsconfig.build.json
echo "export * from './types/src/index.js';" > dist/index.d.ts
echo "export * from './types/src/workloads/index.js';" > dist/workloads.d.ts
echo "export * from './types/src/checker/index.js';" > dist/check.d.ts
