// The engine's exports: plain functions over u32 offsets into the host's shared memory.
// It owns no memory and allocates nothing (scripts/check-wasm.mjs fails the build if it does).

export { abiFingerprint } from './abi';
export { abiRingFingerprint } from './abi-ring';
export {
  init, reseed, setLoad, cpuRead, cpuWrite, cpuFill, clean, invalidate, cleanInvalidate, invalPoc, lineState,
} from './cache';
export { devRead, devWrite, devFill } from './bus';
export { cpuCopy, uncachedRead, uncachedWrite, uncachedFill, rawCopy } from './copy';
export { ringPost, ringDevice, ringReap } from './ring';

/** An empty call, the baseline of every per-call benchmark. */
export function noop(): void {}
