// Simulated time: the counters of a run turned into nanoseconds under a per-arch cost model, so
// that batched and per-buffer barriers (or any two configurations) can be compared on the same
// workload independently of how fast the host runs the simulation.
//
// Calibration of the arm64 defaults. Barry Song's batching series measured dma_map_sg() of a
// 10 MB buffer as 2,560 entries of 4 KiB on a Dimensity 9500 at 2.6 GHz: -64.61 % with batched
// DSBs (and -66.60 % for dma_unmap_sg). Per entry, per-buffer mode pays 64 DC line operations,
// the per-buffer bookkeeping and one DSB; batched mode pays the same minus the DSB, plus one DSB
// for the whole list. With c ns per DC op, a ns per buffer and d ns per DSB the saving is
// d / (64c + a + d) for a long list; c = 1.5 ns and a = 25 ns (a DC CVAC issues in a few cycles,
// the mapping code is a few dozen instructions) and d = 225 ns (a DSB waits until the 64 issued
// operations reach the Point of Coherency) give 65.0 %, the middle of the two measurements.
// x86_64 does no DMA cache maintenance; its parameters only matter for copies and calls.

import type { Arch } from './arch.js';
import type { Stats } from '../engine/port.js';

export interface CostParams {
  /** One DC CVAC / IVAC / CIVAC on one line. */
  dcLineNs: number;
  /** One DSB completing DMA cache maintenance. */
  dsbNs: number;
  /** Mapping or unmapping one buffer (or sg entry) in the DMA core. */
  mapNs: number;
  /** A CPU copy, per byte (swiotlb bounces). */
  copyByteNs: number;
  /** A dirty line written back to RAM by eviction or maintenance. */
  writeBackNs: number;
  /** One IOMMU map or unmap, and one IOTLB flush. */
  iommuMapNs: number;
  iotlbFlushNs: number;
}

export const COST_PARAMS: readonly string[] = ['dcLineNs', 'dsbNs', 'mapNs', 'copyByteNs', 'writeBackNs', 'iommuMapNs', 'iotlbFlushNs'];

const DEFAULTS: Readonly<Record<Arch['name'], CostParams>> = {
  arm64: { dcLineNs: 1.5, dsbNs: 225, mapNs: 25, copyByteNs: 0.05, writeBackNs: 0, iommuMapNs: 350, iotlbFlushNs: 1000 },
  x86_64: { dcLineNs: 0, dsbNs: 0, mapNs: 20, copyByteNs: 0.04, writeBackNs: 0, iommuMapNs: 300, iotlbFlushNs: 800 },
};

export interface Cost {
  cacheMaintenance: number;
  barriers: number;
  mapping: number;
  copies: number;
  iommu: number;
  total: number;
}

/** The counters the model prices. */
export type PricedCounters = Pick<Stats, 'cacheMaintenanceOps' | 'dirtyLinesWrittenBack' | 'barriers' | 'dmaOps' | 'bounceBytes' | 'iommuMaps' | 'iotlbFlushes'>;

export class CostModel {
  readonly params: Readonly<CostParams>;

  constructor(arch: Arch, overrides: Partial<CostParams>) {
    this.params = { ...DEFAULTS[arch.name], ...overrides };
  }

  /** Nanoseconds by category for a set of counters (only the priced ones are read). */
  evaluate(s: PricedCounters): Cost {
    const p = this.params;
    const cacheMaintenance = s.cacheMaintenanceOps * p.dcLineNs + s.dirtyLinesWrittenBack * p.writeBackNs;
    const barriers = s.barriers * p.dsbNs;
    const mapping = s.dmaOps * p.mapNs;
    const copies = s.bounceBytes * p.copyByteNs;
    const iommu = s.iommuMaps * p.iommuMapNs + s.iotlbFlushes * p.iotlbFlushNs;
    return { cacheMaintenance, barriers, mapping, copies, iommu, total: cacheMaintenance + barriers + mapping + copies + iommu };
  }
}
