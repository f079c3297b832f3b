// Loads the engine: compiles core.wasm once per process, instantiates it over a machine's shared
// memory, and refuses a core whose ABI differs from the host's (assembly/abi*.ts).
//
// Hand-written instead of asc's generated bindings: the esm bindings cannot take an imported
// memory (AssemblyScript #2529), and a typed interface over instance.exports keeps the host's
// type-check independent of a prior asc build.

import { abiFingerprint } from '../../assembly/abi.js';
import { abiRingFingerprint } from '../../assembly/abi-ring.js';
import { DmaCoreFault, DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';
// The engine travels inside the bundle (esbuild's binary loader; test/support/wasm-bytes.ts under
// vitest): 27 KB of base64 buys a library that loads the same way in Node, a worker, a browser
// or a bundler, with no file to find and no Node builtin in its import graph.
import coreSimd from '../../build/core.wasm';
import coreBaseline from '../../build/core.baseline.wasm';

/** The engine's exports (assembly/index.ts). Offsets and lengths are u32; booleans are 0/1. */
export interface CoreExports {
  abiFingerprint(): number;
  abiRingFingerprint(): number;
  init(
    tags: number, stamps: number, data: number, lineDir: number, counters: number,
    ramStart: number, sets: number, ways: number, lineShift: number,
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
  invalPoc(addr: number, len: number): void;
  lineState(addr: number): number;
  devRead(addr: number, len: number, dst: number, coherent: number): void;
  devWrite(addr: number, len: number, src: number, coherent: number): void;
  devFill(addr: number, len: number, value: number, coherent: number): void;
  cpuCopy(dst: number, src: number, n: number): void;
  uncachedRead(addr: number, len: number, dst: number): void;
  uncachedWrite(addr: number, len: number, src: number): void;
  uncachedFill(addr: number, len: number, value: number): void;
  rawCopy(dst: number, src: number, n: number): void;
  /** Batched ring steps (assembly/ring.ts) over a ring block; each returns the descriptors handled. */
  ringPost(ring: number, first: number, n: number, ops: number): number;
  ringDevice(ring: number, first: number, n: number, ops: number): number;
  ringReap(ring: number, first: number, n: number, ops: number): number;
  noop(): void;
}

/**
 * What an embedder may hand us instead of the built-in engine: a module, its bytes, or a URL to
 * fetch it from (http(s): or, in a browser, a path relative to the page).
 */
export type CoreSource = WebAssembly.Module | ArrayBuffer | Uint8Array | URL | string;

/**
 * A minimal module using one v128 instruction (wasm-feature-detect's SIMD probe): if it
 * validates, the SIMD build is used, else the scalar baseline build.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Copies into a fresh ArrayBuffer-backed array: WebAssembly.compile refuses a SharedArrayBuffer view. */
function ownBytes(b: ArrayBuffer | Uint8Array): Uint8Array<ArrayBuffer> {
  return b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b);
}

async function fetchBytes(source: URL | string): Promise<Uint8Array<ArrayBuffer>> {
  const url = typeof source === 'string' ? source : source.href;
  if (url.startsWith('file:')) {
    throw new DmaSimTypeError('createMachine', 'options.core', `a file: URL cannot be fetched in every runtime; pass the bytes instead (readFileSync(${JSON.stringify(url)}))`);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`dmasim: cannot fetch ${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

let defaultModule: Promise<WebAssembly.Module> | undefined;

/**
 * Compiles the engine (once per process for the built-in one; hash-wasm's wasmModuleCache).
 * A source that is none, or bytes that are no WebAssembly module, are refused naming `fn` (the
 * call the user made: compileCore, or createMachine for its `core` option).
 */
export function compileCore(source?: CoreSource, fn = 'compileCore'): Promise<WebAssembly.Module> {
  const arg = fn === 'compileCore' ? 'source' : 'core';
  const compile = (b: Uint8Array<ArrayBuffer>): Promise<WebAssembly.Module> => WebAssembly.compile(b).catch((e: unknown) => {
    throw e instanceof WebAssembly.CompileError ? new DmaSimRangeError(fn, arg, `is not a WebAssembly module: ${e.message}`) : e;
  });
  if (source instanceof WebAssembly.Module) return Promise.resolve(source);
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) return compile(ownBytes(source));
  if (source instanceof URL || typeof source === 'string') return fetchBytes(source).then(compile);
  if (source !== undefined) return Promise.reject(new DmaSimTypeError(fn, arg, 'must be a WebAssembly.Module, its bytes, or a URL'));
  defaultModule ??= WebAssembly.compile(ownBytes(WebAssembly.validate(SIMD_PROBE) ? coreSimd : coreBaseline));
  return defaultModule;
}

/** A trap is always dmasim's bug: report the export and its arguments. */
function fault(name: string, args: readonly number[], e: unknown): unknown {
  return e instanceof WebAssembly.RuntimeError ? new DmaCoreFault(name, args, e) : e;
}

/**
 * Wraps an export so that a trap surfaces as DmaCoreFault. Each wrapper is compiled from its own
 * source text: a closure shared by all exports would make its inner call site megamorphic, and
 * V8 would stop inlining the JS-to-WASM call (7 ns per call instead of 3, measured). Where code
 * generation is forbidden (a CSP), a shared closure does the same job, more slowly.
 */
function guard(name: string, f: (...args: number[]) => unknown): (...args: number[]) => unknown {
  const params = Array.from({ length: f.length }, (_, i) => `a${i}`).join(', ');
  try {
    return new Function('f', 'fault', 'name', `return function ${name}(${params}) {
      try { return f(${params}); } catch (e) { throw fault(name, [${params}], e); }
    };`)(f, fault, name) as (...args: number[]) => unknown;
  } catch {
    return (...args: number[]): unknown => {
      try { return f(...args); } catch (e) { throw fault(name, args, e); }
    };
  }
}

/** Instantiates the engine over `memory` and checks that it speaks this host's ABI. */
/** The engine's fingerprint of an ABI file must be the host's: both were built from the same file. */
function checkFingerprint(file: string, theirs: unknown, ours: number): void {
  if (theirs !== ours) {
    throw new Error(`dmasim: core.wasm was built from another assembly/${file} (fingerprint ${String(theirs)}, host ${ours}); rebuild it with npm run build`);
  }
}

export function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory): CoreExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const raw = instance.exports as unknown as Record<string, (...args: number[]) => unknown>;
  checkFingerprint('abi.ts', raw.abiFingerprint?.(), abiFingerprint());
  checkFingerprint('abi-ring.ts', raw.abiRingFingerprint?.(), abiRingFingerprint());
  const g = <K extends keyof CoreExports>(name: K): CoreExports[K] => {
    const f = raw[name];
    if (typeof f !== 'function') throw new Error(`dmasim: core.wasm lacks the export ${name}; rebuild it with npm run build`);
    return guard(name, f) as CoreExports[K];
  };
  // An object literal with every name spelled out keeps a fixed shape with constant fields, so
  // V8 inlines `core.x(...)` calls; an object filled in a loop ends up in dictionary mode (7 ns
  // per call instead of 3, measured).
  return {
    abiFingerprint: g('abiFingerprint'), abiRingFingerprint: g('abiRingFingerprint'), init: g('init'), reseed: g('reseed'), setLoad: g('setLoad'),
    cpuRead: g('cpuRead'), cpuWrite: g('cpuWrite'), cpuFill: g('cpuFill'),
    clean: g('clean'), invalidate: g('invalidate'), cleanInvalidate: g('cleanInvalidate'), invalPoc: g('invalPoc'),
    lineState: g('lineState'),
    devRead: g('devRead'), devWrite: g('devWrite'), devFill: g('devFill'),
    cpuCopy: g('cpuCopy'), uncachedRead: g('uncachedRead'), uncachedWrite: g('uncachedWrite'), uncachedFill: g('uncachedFill'),
    rawCopy: g('rawCopy'), ringPost: g('ringPost'), ringDevice: g('ringDevice'), ringReap: g('ringReap'), noop: g('noop'),
  };
}
