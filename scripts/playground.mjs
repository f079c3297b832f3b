// npm run playground: builds the browser playground into build/playground (esbuild: the page,
// its worker with dmasim and the engine's .wasm bundled in, CodeMirror), then
// serves it on localhost and prints the URL. `--build-only` stops after the build. The folder is
// a static site: any static host serves it as it is.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'playground');

export async function buildPlayground() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(root, 'playground', 'main.ts'), worker: join(root, 'playground', 'worker.ts') },
    bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'chrome110', outdir: out, logLevel: 'warning',
    // The engine's .wasm travels in the worker's bundle, as in dist/ (esbuild's binary loader).
    loader: { '.wasm': 'binary' }, external: ['node:fs/promises'],
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'playground', f), join(out, f));
  return out;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

/** A static file server for the folder, on 127.0.0.1 (port 0: any free port). */
export function serve(dir, port = 0) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^[/\\]+/, '');
    const file = join(dir, path === '' ? 'index.html' : path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = await buildPlayground();
  if (!process.argv.includes('--build-only')) {
    const server = await serve(dir, Number(process.env.PORT ?? 8080));
    process.stdout.write(`dmasim playground: http://127.0.0.1:${server.address().port}/\n`);
  }
}
