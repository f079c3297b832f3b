// The build stamp: a hash of every input of `npm run build`, written into dist/ by the build.
// `node scripts/build-stamp.mjs check` exits 0 when dist/ and build/ were built from exactly
// today's inputs, so `npm test` and `npm start` skip a 10-second rebuild that would change
// nothing. CI builds from clean (.ci/run), where there is no stamp.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(root, 'dist/.build-stamp');
const INPUTS = ['assembly', 'src', 'scripts', 'asconfig.json', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const OUTPUTS = ['build/core.wasm', 'build/core.baseline.wasm', 'dist/index.js', 'dist/cli.js'];

function* files(dir, p) {
  const abs = join(dir, p);
  if (!existsSync(abs)) return;
  if (!statSync(abs).isDirectory()) {
    yield p;
    return;
  }
  for (const name of readdirSync(abs).sort()) yield* files(dir, `${p}/${name}`);
}

/** sha256 over the inputs' paths and contents, and the Node version that ran the build. */
export function inputHash(dir = root) {
  const h = createHash('sha256').update(process.version);
  for (const top of INPUTS) for (const f of files(dir, top)) h.update(`\0${f}\0`).update(readFileSync(join(dir, f)));
  return h.digest('hex');
}

export function writeStamp() {
  writeFileSync(STAMP, `${inputHash()}\n`);
}

function fresh() {
  if (!OUTPUTS.every((f) => existsSync(join(root, f))) || !existsSync(STAMP)) return false;
  return readFileSync(STAMP, 'utf8').trim() === inputHash();
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'check') {
  process.exit(fresh() ? 0 : 1);
}
