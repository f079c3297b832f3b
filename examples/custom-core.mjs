// The `core` option: the engine the machine runs, instead of the one the package carries.
// Compile it once and hand the module to as many machines as you like (a host that forbids
// compiling from bytes can pass a module it loaded its own way). Here the module is compiled
// from the engine dmasim itself uses, obtained through compileCore().
import assert from 'node:assert/strict';
import { compileCore, createMachine, GFP_KERNEL } from 'dmasim';

const core = await compileCore();
assert.ok(core instanceof WebAssembly.Module);
const machines = await Promise.all([1, 2, 3].map((seed) => createMachine({ seed, core })));
for (const m of machines) {
  const p = m.kmalloc(64, GFP_KERNEL);
  m.cpu.write(p, [42]);
  assert.equal(m.cpu.readb(p), 42);
}
console.log(`${machines.length} machines on one compiled engine (${WebAssembly.Module.exports(core).length} exports)`);
