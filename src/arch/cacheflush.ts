// The arm64 D-cache maintenance routines of arch/arm64/mm/cache.S as the DMA hooks use them:
// dcache_clean_poc / dcache_inval_poc (each ends in its own DSB) and, with the 7.x batching
// series (ARCH_HAS_BATCHED_DMA_SYNC), their _nosync variants, which only issue the DC
// instructions: they complete at the next dsb(sy), i.e. arch_sync_dma_flush().
//
// Issued-but-incomplete operations are really pending here: until the DSB, a device reading RAM
// does not see a queued clean, and a queued invalidate has not dropped anything.

import type { EnginePort, HostStats } from '../engine/port.js';

/** What the maintenance routines need from the machine, handed in by machine.ts. */
export interface DcacheHost {
  readonly port: EnginePort;
  readonly hostStats: HostStats;
  /** The CPU whose loads (load.loadReordering) and buffered stores (load.storeReordering) a DSB orders. */
  readonly cpu: { orderLoads(): void; drainStores(): void };
}

const CLEAN = 0;
const INVAL = 1;

export class DcacheMaintenance {
  /** Pending operations as (kind, offset, length) triples, in issue order; `queued` of them are live. */
  private readonly pending: number[] = [];
  private queued = 0;

  constructor(private readonly m: DcacheHost) {}

  /**
   * dcache_clean_poc(_nosync): DC CVAC over every line of [off, off + len). The line loop of
   * dcache_by_line_op tests its bound after the first DC, so a zero-length range still cleans
   * the line holding `off`.
   */
  clean(off: number, len: number, sync: boolean): void {
    if (sync) {
      this.m.port.clean(off, Math.max(len, 1));
      this.dsb();
    } else {
      this.queue(CLEAN, off, len);
    }
  }

  /** dcache_inval_poc(_nosync): DC IVAC, but DC CIVAC on partial lines at either edge (engine's invalPoc). */
  inval(off: number, len: number, sync: boolean): void {
    if (sync) {
      this.m.port.invalPoc(off, len);
      this.dsb();
    } else {
      this.queue(INVAL, off, len);
    }
  }

  /** The queue is reused, never truncated: resetting an array's length costs more than a map. */
  private queue(kind: number, off: number, len: number): void {
    const at = this.queued * 3;
    this.pending[at] = kind;
    this.pending[at + 1] = off;
    this.pending[at + 2] = len;
    this.queued++;
  }

  /**
   * dsb(sy): every issued operation completes. A DSB is a full barrier (the mb() of
   * arch/arm64/include/asm/barrier.h), so every earlier memory access completes too: the store
   * buffer drains (a descriptor stored to coherent memory before a dma_map_single() is visible
   * to the device when the map returns), and the window in which a later load could be
   * satisfied early ends (a driver's read after dma_sync_single_for_cpu() sees what the device
   * wrote, with no dma_rmb() of its own).
   */
  dsb(): void {
    this.m.cpu.drainStores();
    if (this.queued === 1) this.complete(0);
    else for (let i = 0; i < this.queued * 3; i += 3) this.complete(i);
    this.queued = 0;
    this.m.hostStats.barriers++;
    this.m.cpu.orderLoads();
  }

  /** The queued operation at pending[i]: what a DSB waits for. */
  private complete(i: number): void {
    const p = this.pending;
    if (p[i] === CLEAN) this.m.port.clean(p[i + 1] as number, Math.max(p[i + 2] as number, 1));
    else this.m.port.invalPoc(p[i + 1] as number, p[i + 2] as number);
  }

  /** Operations issued and not yet completed (for tests and the data-aware checker). */
  get pendingOps(): number {
    return this.queued;
  }
}
