// struct dma_map_ops (include/linux/dma-map-ops.h): the legacy back end a bus installs for its
// devices. dma-mapping dispatches to these callbacks exactly where kernel/dma/mapping.c does.
// Addresses are numbers, masks bigints, and a callback the kernel treats as optional may be left out.

import type { Device } from './device.js';
import type { DmaDirection } from '../include/dma-mapping.js';
import type { Scatterlist } from './scatterlist.js';

export interface DmaMapOps {
  /** ops->alloc: returns the CPU address and sets the handle, or null. */
  alloc?(dev: Device, size: number, gfp: number, attrs: number): { cpu_addr: number; dma_handle: number } | null;
  free?(dev: Device, size: number, cpu_addr: number, dma_handle: number, attrs: number): void;
  map_phys?(dev: Device, phys: number, size: number, dir: DmaDirection, attrs: number): number;
  unmap_phys?(dev: Device, addr: number, size: number, dir: DmaDirection, attrs: number): void;
  /** Returns the number of mapped segments, or a negative errno. */
  map_sg?(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): number;
  unmap_sg?(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection, attrs: number): void;
  sync_single_for_cpu?(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  sync_single_for_device?(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  sync_sg_for_cpu?(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection): void;
  sync_sg_for_device?(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDirection): void;
  dma_supported?(dev: Device, mask: bigint): boolean;
  get_required_mask?(dev: Device): bigint;
  max_mapping_size?(dev: Device): number;
  opt_mapping_size?(): number;
}

const CALLBACKS = [
  'alloc', 'free', 'map_phys', 'unmap_phys', 'map_sg', 'unmap_sg', 'sync_single_for_cpu',
  'sync_single_for_device', 'sync_sg_for_cpu', 'sync_sg_for_device', 'dma_supported',
  'get_required_mask', 'max_mapping_size', 'opt_mapping_size',
] as const;

/** The callbacks a dma_map_ops may carry; anything else on the object is a typo worth refusing. */
export function unknownCallbacks(ops: object): string[] {
  return Object.keys(ops).filter((k) => !(CALLBACKS as readonly string[]).includes(k));
}
