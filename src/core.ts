// Loads the engine: compiles core.wasm once per process, instantiates it over a machine's shared
// memory, and refuses a core whose ABI differs from the host's (assembly/abi.ts).
//
// Hand-written instead of asc's generated bindings: the esm bindings cannot take an imported
// memory (AssemblyScript #2529), and a typed interface over instance.exports keeps the host's
// type-check independent of a prior asc build.

import { abiFingerprint } from '../assembly/abi.js';
import { DmaCoreFault } from './errors.js';

/** The engine's exports (assembly/index.ts). Offsets and lengths are u32; booleans are 0/1. */
export interface CoreExports {
  abiFingerprint(): number;
  init(
    tags: number, stamps: number, data: number, lineDir: number, counters: number,
    ramStart: number, ramBytes: number, sets: number, ways: number, lineShift: number,
    pageShift: number, policy: number, seed: number,
  ): number;
  reseed(seed: number): void;
  setLoad(pressure: number, speculation: number): void;
  cpuRead(addr: number, len: number, dst: number): void;
  cpuWrite(addr: number, len: number, src: number): void;
  cpuFill(addr: number, len: number, value: number): void;
  clean(addr: number, len: number): number;
  invalidate(addr: number, len: number): number;
  cleanInvalidate(addr: number, len: number): number;
  lineState(addr: number): number;
  devRead(addr: number, len: number, dst: number, coherent: number): void;
  devWrite(addr: number, len: number, src: number, coherent: number): void;
  devFill(addr: number, len: number, value: number, coherent: number): void;
  cpuCopy(dst: number, src: number, n: number): void;
  uncachedRead(addr: number, len: number, dst: number): void;
  uncachedWrite(addr: number, len: number, src: number): void;
  uncachedFill(addr: number, len: number, value: number): void;
  rawCopy(dst: number, src: number, n: number): void;
  noop(): void;
}

/** What an embedder may hand us instead of letting us find core.wasm: a module, its bytes, or where it is. */
export type CoreSource = WebAssembly.Module | ArrayBuffer | Uint8Array<ArrayBuffer> | URL | string;

/**
 * A minimal module using one v128 instruction (wasm-feature-detect's SIMD probe): if it
 * validates, the SIMD build is used, else the scalar baseline build.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

declare const CORE_WASM_DIR: string | undefined;

/** core.wasm beside the bundle (dist/), or build/ when running from the source tree. */
function defaultCoreUrl(): URL {
  const name = WebAssembly.validate(SIMD_PROBE) ? 'core.wasm' : 'core.baseline.wasm';
  const dir = typeof CORE_WASM_DIR === 'string' ? CORE_WASM_DIR : '../build/';
  return new URL(dir + name, import.meta.url);
}

async function readBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`dmasim: cannot fetch ${url.href}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

let defaultModule: Promise<WebAssembly.Module> | undefined;

/** Compiles the engine (once per process for the default core; hash-wasm's wasmModuleCache). */
export function compileCore(source?: CoreSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return Promise.resolve(source);
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) return WebAssembly.compile(source);
  if (source !== undefined) return readBytes(new URL(source)).then((b) => WebAssembly.compile(b));
  defaultModule ??= readBytes(defaultCoreUrl()).then((b) => WebAssembly.compile(b));
  return defaultModule;
}

/** Rethrows a trap as DmaCoreFault naming the export and its arguments: a trap is always our bug. */
function guard<F extends (...args: number[]) => unknown>(name: string, f: F): F {
  const fault = (args: number[], e: unknown): unknown =>
    e instanceof WebAssembly.RuntimeError ? new DmaCoreFault(name, args, e) : e;
  // Fixed arities keep the hot wrappers free of rest-argument arrays.
  switch (f.length) {
    case 0: return ((): unknown => { try { return f(); } catch (e) { throw fault([], e); } }) as F;
    case 1: return ((a: number): unknown => { try { return f(a); } catch (e) { throw fault([a], e); } }) as F;
    case 2: return ((a: number, b: number): unknown => { try { return f(a, b); } catch (e) { throw fault([a, b], e); } }) as F;
    case 3: return ((a: number, b: number, c: number): unknown => { try { return f(a, b, c); } catch (e) { throw fault([a, b, c], e); } }) as F;
    case 4: return ((a: number, b: number, c: number, d: number): unknown => { try { return f(a, b, c, d); } catch (e) { throw fault([a, b, c, d], e); } }) as F;
    default: return ((...args: number[]): unknown => { try { return f(...args); } catch (e) { throw fault(args, e); } }) as F;
  }
}

/** Instantiates the engine over `memory` and checks that it speaks this host's ABI. */
export function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory): CoreExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const raw = instance.exports as unknown as Record<string, (...args: number[]) => unknown>;
  const theirs = raw.abiFingerprint?.();
  if (theirs !== abiFingerprint()) {
    throw new Error(`dmasim: core.wasm was built from another assembly/abi.ts (fingerprint ${String(theirs)}, host ${abiFingerprint()}); rebuild it with npm run build`);
  }
  const core: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(raw)) {
    if (typeof f === 'function') core[name] = guard(name, f);
  }
  return core as unknown as CoreExports;
}
