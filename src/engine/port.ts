// The host's side of the engine boundary: what the layers above read back from the engine (its
// counters, as Stats) and the probe the data-aware checker attaches to every engine access.

/** Counters of everything the machine did; see README for each one's meaning. */
export interface Stats {
  cacheHits: number;
  cacheMisses: number;
  evictions: number;
  dirtyLinesWrittenBack: number;
  dirtyLinesDiscarded: number;
  cacheLinesCleaned: number;
  cacheLinesInvalidated: number;
  cacheMaintenanceOps: number;
  speculativeFills: number;
  snoops: number;
  bounceBytes: number;
  cpuBytesRead: number;
  cpuBytesWritten: number;
  uncachedBytes: number;
  deviceBytesRead: number;
  deviceBytesWritten: number;
  /** DSBs completing DMA cache maintenance (one per range op, or one per batch with ARCH_HAS_BATCHED_DMA_SYNC). */
  barriers: number;
  /** mb/rmb/wmb/dma_rmb/dma_wmb executed by the driver. */
  cpuBarriers: number;
  /** Buffers mapped or unmapped by dma-direct (each sg entry counts). */
  dmaOps: number;
  swiotlbSlotsUsed: number;
  /** IOMMU page-table operations: each iommu_map() and each unmap call. */
  iommuMaps: number;
  /** IOTLB invalidations: one per strict unmap, one per flush-queue flush (lazy mode). */
  iotlbFlushes: number;
  /** Device accesses the IOMMU refused (translation or permission faults). */
  iommuFaults: number;
}

/** Counters the host keeps (the engine keeps the rest in its counter block). */
export type HostStats = Pick<Stats, 'barriers' | 'cpuBarriers' | 'dmaOps' | 'iommuMaps' | 'iotlbFlushes' | 'iommuFaults'>;

/**
 * What the data-aware checker (src/check/dma-data-check.ts) is told of every engine access that
 * moves bytes or changes line state, before the engine does it. Offsets are WASM offsets.
 */
export interface DataProbe {
  /** A CPU load or store of [off, off + len), through the cache or around it. */
  cpuAccess(off: number, len: number, write: boolean, cached: boolean): void;
  /** A CPU copy (a swiotlb bounce) of n bytes from srcOff to dstOff. */
  cpuCopy(dstOff: number, srcOff: number, n: number): void;
  /** A completed clean or invalidate of [off, off + len) to the Point of Coherency. */
  maintenance(kind: 'clean' | 'inval', off: number, len: number): void;
}
