// dmasim: the public surface (API.md). Kernel names keep the kernel's spelling; what is ours is camelCase.

export { createMachine, Machine } from './machine.js';
export type { MachineOptions, CacheOptions, KernelConfig, LoadOptions, Stats, LineState, CacheOps } from './machine.js';
export { Device } from './device.js';
export type { DeviceOptions, BusDmaRegion } from './device.js';
export { Cpu } from './cpu.js';
export { DmaSimError, DmaSimRangeError, DmaSimTypeError, DmaFaultError, KernelBug, DmaCoreFault } from './errors.js';
export { compileCore } from './core.js';
export type { CoreSource } from './core.js';
export {
  __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32, __GFP_ZERO, __GFP_NOWARN, __GFP_NORETRY, __GFP_COMP,
  GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_DMA, GFP_DMA32,
} from './mm/gfp.js';
export { PAGE_SIZE, PAGE_SHIFT, type Page } from './mm/memory.js';
export type { Section } from './mm/kimage.js';

/** NULL, as the pointer-returning calls (kmalloc, vmalloc) return it. */
export const NULL = 0;
