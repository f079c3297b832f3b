// Shared test fixtures: small machines that make cache effects easy to provoke.
import { createMachine, type Machine, type MachineOptions } from '../../src/machine.js';
import { DmaSimError } from '../../src/lib/errors.js';
import { DebugfsError } from '../../src/lib/debugfs.js';
import { randomBytes } from '../../src/lib/random.js';

/** A machine with one 2 MiB bank and a tiny cache (4 KiB, 4 ways, 64 B lines: 16 sets). */
export function smallMachine(opts: MachineOptions = {}): Promise<Machine> {
  return createMachine({
    ram: [{ base: 0x8000_0000, size: 2 << 20 }],
    cache: { size: 4096, ways: 4, lineSize: 64 },
    ...opts,
  });
}

/** A free physical buffer in the small machine, above the kernel image, for raw cache tests. */
export const SMALL_BUF = 0x8010_0000;

export function bytes(n: number, seed: number): Uint8Array {
  return randomBytes(seed, n);
}

/** Runs fn, which must throw a DmaSimError naming `fn` (its message starts with "fn: "); returns it. */
export function expectDmaSimError(fnName: string, call: () => unknown): DmaSimError {
  let caught: unknown = null;
  try {
    call();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof DmaSimError)) throw new Error(`${fnName}: expected a DmaSimError, got ${String(caught)}`);
  if (caught.fn !== fnName) throw new Error(`expected the error to name ${fnName}, got ${caught.fn}`);
  return caught;
}

/** The errno code a debugfs/tracefs call is refused with, or 'no error'. */
export function debugfsErrno(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DebugfsError) return e.code;
    throw e;
  }
  return 'no error';
}
