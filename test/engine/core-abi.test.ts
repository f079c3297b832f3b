// The host refuses an engine built from another assembly/abi.ts, and turns a trap (always a
// dmasim bug) into a DmaCoreFault naming the export and its arguments.
import asc from 'assemblyscript/asc';
import { expect, test } from 'vitest';
import { instantiateCore } from '../../src/engine/core.js';
import { DmaCoreFault } from '../../src/lib/errors.js';
import { smallMachine } from '../support/helpers.js';

test('a core with another ABI fingerprint is refused at load', async () => {
  const { binary, error } = await asc.compileString('export function abiFingerprint(): f64 { return 42; }', {
    importMemory: true, sharedMemory: true, initialMemory: 1, maximumMemory: 16, runtime: 'stub', enable: ['threads'],
  } as Parameters<typeof asc.compileString>[1]);
  expect(error).toBeFalsy();
  const module = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
  expect(() => instantiateCore(module, memory)).toThrow(/another assembly\/abi.ts/);
});

test('a trap in the engine surfaces as DmaCoreFault', async () => {
  const m = await smallMachine();
  const beyond = m.memoryBytes + 4096;
  let err: unknown;
  try { m.core.rawCopy(beyond, 0, 64); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(DmaCoreFault);
  expect((err as Error).message).toContain(`rawCopy(${beyond}, 0, 64)`);
});
