#!/usr/bin/env bash
# Bundles the host: ESM + CJS + CLI with the engine shipped beside them, and the declarations.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist && mkdir -p dist
common=(--bundle --platform=node --target=node20 --log-level=warning --define:CORE_WASM_DIR='"./"')
npx esbuild src/index.ts "${common[@]}" --format=esm --outfile=dist/index.js
# import.meta.url is empty in CJS output: define it from __filename so core.wasm is found beside the bundle.
npx esbuild src/index.ts "${common[@]}" --format=cjs --outfile=dist/index.cjs \
  --define:import.meta.url=__importMetaUrl \
  --banner:js="const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;"
npx esbuild src/cli.ts "${common[@]}" --format=esm --outfile=dist/cli.js --banner:js='#!/usr/bin/env node'
chmod +x dist/cli.js
cp build/core.wasm build/core.baseline.wasm dist/
npx tsc -p tsconfig.build.json
echo "export * from './types/src/index.js';" > dist/index.d.ts
