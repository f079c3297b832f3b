// The DMA API's debug hooks: include/linux/dma-debug.h, the debug_dma_*() calls
// kernel/dma/mapping.c makes after each operation. Callers import this interface; kernel/dma/
// debug.c's checker (debug.ts) and the data-aware checker (check/dma-data-check.ts) implement it.
// With neither attached the machine has no hooks at all (m.dmaDebug is null), so the hot path
// pays nothing.

import type { Device } from './device.js';
import type { DmaDirection } from '../include/dma-mapping.js';
import type { Scatterlist } from './scatterlist.js';

/** The API entry point that creates a debug entry (what the kernel's saved stack would show). */
export type DmaApiCall =
  | 'dma_map_single' | 'dma_map_page' | 'dma_map_phys' | 'dma_map_resource' | 'dma_map_sg' | 'dma_map_sgtable'
  | 'dma_alloc_attrs' | 'dma_alloc_coherent' | 'dma_alloc_pages' | 'dma_alloc_noncoherent';

/** The debug_dma_*() calls of include/linux/dma-debug.h, as kernel/dma/mapping.c makes them. */
export interface DmaDebugHooks {
  /**
   * dmasim's stand-in for the stack the kernel saves with each entry: the API entry point the
   * next map or allocation hook belongs to. dma_map_single() needs none (map_single says it).
   */
  caller(fn: DmaApiCall): void;
  map_single(dev: Device, ptr: number, size: number): void;
  map_phys(dev: Device, phys: number, size: number, dir: DmaDirection, addr: number, attrs: number): void;
  /** attrs: the unmap's (the data-aware checker looks for DMA_ATTR_SKIP_CPU_SYNC). */
  unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection, attrs?: number): void;
  mapping_error(dev: Device, addr: number): void;
  map_sg(dev: Device, sgl: Scatterlist[], nents: number, mapped: number, dir: DmaDirection, attrs: number): void;
  unmap_sg(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void;
  alloc_coherent(dev: Device, size: number, handle: number, virt: number, attrs: number): void;
  free_coherent(dev: Device, size: number, virt: number, handle: number): void;
  alloc_pages(dev: Device, phys: number, size: number, dir: DmaDirection, handle: number): void;
  free_pages(dev: Device, phys: number, size: number, dir: DmaDirection, handle: number): void;
  sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  sync_sg_for_cpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void;
  sync_sg_for_device(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void;
  /** BUS_NOTIFY_UNBOUND_DRIVER (dma_debug_device_change()): m.unbind(dev). */
  driver_unbound(dev: Device): void;
}

/** Two hook layers in turn: dma-debug, then the data-aware checker (both enabled). */
export function teeHooks(a: DmaDebugHooks, b: DmaDebugHooks): DmaDebugHooks {
  return {
    caller: (fn) => { a.caller(fn); b.caller(fn); },
    map_single: (d, p, s) => { a.map_single(d, p, s); b.map_single(d, p, s); },
    map_phys: (d, p, s, r, x, t) => { a.map_phys(d, p, s, r, x, t); b.map_phys(d, p, s, r, x, t); },
    unmap_phys: (d, x, s, r, t) => { a.unmap_phys(d, x, s, r, t); b.unmap_phys(d, x, s, r, t); },
    mapping_error: (d, x) => { a.mapping_error(d, x); b.mapping_error(d, x); },
    map_sg: (d, l, n, k, r, t) => { a.map_sg(d, l, n, k, r, t); b.map_sg(d, l, n, k, r, t); },
    unmap_sg: (d, l, n, r) => { a.unmap_sg(d, l, n, r); b.unmap_sg(d, l, n, r); },
    alloc_coherent: (d, s, h, v, t) => { a.alloc_coherent(d, s, h, v, t); b.alloc_coherent(d, s, h, v, t); },
    free_coherent: (d, s, v, h) => { a.free_coherent(d, s, v, h); b.free_coherent(d, s, v, h); },
    alloc_pages: (d, p, s, r, h) => { a.alloc_pages(d, p, s, r, h); b.alloc_pages(d, p, s, r, h); },
    free_pages: (d, p, s, r, h) => { a.free_pages(d, p, s, r, h); b.free_pages(d, p, s, r, h); },
    sync_single_for_cpu: (d, x, s, r) => { a.sync_single_for_cpu(d, x, s, r); b.sync_single_for_cpu(d, x, s, r); },
    sync_single_for_device: (d, x, s, r) => { a.sync_single_for_device(d, x, s, r); b.sync_single_for_device(d, x, s, r); },
    sync_sg_for_cpu: (d, l, n, r) => { a.sync_sg_for_cpu(d, l, n, r); b.sync_sg_for_cpu(d, l, n, r); },
    sync_sg_for_device: (d, l, n, r) => { a.sync_sg_for_device(d, l, n, r); b.sync_sg_for_device(d, l, n, r); },
    driver_unbound: (d) => { a.driver_unbound(d); b.driver_unbound(d); },
  };
}
