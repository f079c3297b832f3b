// Guard: the shared-memory engine must never allocate. A per-instance bump allocator over one
// shared memory would hand two instances the same addresses, and data segments or a start
// function would be re-run (and overwrite RAM) on every instantiation.
import { readFileSync } from 'node:fs';

let failed = false;
for (const name of ['core', 'core.baseline']) {
  const wat = readFileSync(new URL(`../build/${name}.wat`, import.meta.url), 'utf8');
  const mod = new WebAssembly.Module(readFileSync(new URL(`../build/${name}.wasm`, import.meta.url)));
  const bad = [];
  const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
  if (imports.join() !== 'env.memory') bad.push(`imports: ${imports.join(', ')}`);
  for (const [re, what] of [[/\(data\b/, 'data segment'], [/\(start\b/, 'start function'], [/memory\.grow/, 'memory.grow'], [/~lib\/rt\//, 'runtime allocator']]) {
    if (re.test(wat)) bad.push(what);
  }
  if (bad.length) {
    console.error(`${name}.wasm violates the no-allocation rules: ${bad.join('; ')}`);
    failed = true;
  } else {
    console.log(`${name}.wasm ok: ${WebAssembly.Module.exports(mod).length} exports, imports only env.memory, no data/start/grow/rt`);
  }
}
process.exit(failed ? 1 : 0);
