// A vite plugin for the test suite: `import bytes from '.../core.wasm'` is the file's bytes, as
// esbuild's binary loader makes it in the build (scripts/build.mjs).
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vitest/config';

export function wasmBytes(): Plugin {
  return {
    name: 'dmasim-wasm-bytes',
    enforce: 'pre',
    load(id) {
      if (!id.endsWith('.wasm')) return null;
      const b64 = readFileSync(id).toString('base64');
      return `export default Uint8Array.from(atob(${JSON.stringify(b64)}), (c) => c.charCodeAt(0));`;
    },
  };
}
