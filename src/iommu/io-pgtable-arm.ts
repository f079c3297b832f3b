// The page tables behind a translating IOMMU domain: drivers/iommu/io-pgtable-arm.c (the LPAE
// format arm-smmu-v3 programs) at a 4 KiB granule, with 2 MiB and 1 GiB block entries. VT-d's
// second-level tables on x86_64 have the same shape (4 levels, 48-bit input, 4K/2M/1G leaves),
// so both machines use this one format. iommu.ts's iommu_map()/iommu_unmap() split a range with
// iommu_pgsize() and call map_pages()/unmap_pages() for each piece, as iommu.c does through
// domain->ops; the WARNs of io-pgtable-arm.c are printed here, where the kernel prints them.
//
// Only the last-level tables exist as arrays (one Float64Array of 512 entries per 2 MiB of IOVA
// space, allocated on first map and kept when emptied, as io-pgtable-arm keeps table pages);
// the upper levels are the Map that finds them. Block entries live in their own Maps.

import type { KernelLog } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';

/** The smallest page size the page tables map (io-pgtable-arm's 4K granule). */
export const IOMMU_PAGE_SIZE = 4096;
/**
 * The block sizes above it, largest first: pgsize_bitmap SZ_4K | SZ_2M | SZ_1G, what
 * arm-smmu-v3 reports for a 4K granule and VT-d for its 2M and 1G superpages. iommu_pgsize()
 * maps each part of a range with the largest size its alignment and length allow.
 */
export const IO_PGTABLE_BLOCK_SIZES = [2 ** 30, 2 ** 21] as const;
/** cfg->ias: SMMUv3 stage 1 and VT-d 4-level tables both translate 48-bit input addresses. */
export const IO_PGTABLE_IAS = 48;
/** Entries per page-table page at a 4 KiB granule, and the span of one last-level table. */
const PTES_PER_TABLE = 512;
const TABLE_SPAN = IOMMU_PAGE_SIZE * PTES_PER_TABLE;
/** A leaf entry: the page's physical address plus its prot bits plus this valid bit (all below 4 KiB). */
const PTE_VALID = 0x800;
const EEXIST = 17;
const ERANGE = 34;

// Addresses go up to 2^48 here. `%` on such a double is a call to fmod; `&` with a small mask
// keeps the low 32 bits of any integer below 2^53, which is all a page offset needs (`|` too,
// so IS_ALIGNED(iova | paddr | size) is written as in the kernel). Page and table numbers
// multiply by the exact reciprocal of their size: the bundle makes these constants `var`s,
// which TurboFan does not fold, and a divide by a loaded value costs several multiplies.
const PAGE_SCALE = 1 / IOMMU_PAGE_SIZE;
const TABLE_SCALE = 1 / TABLE_SPAN;
/** 2^ias, the first IOVA beyond the input address size (`**` of a `var` is a pow() call per map). */
const IAS_LIMIT = 2 ** IO_PGTABLE_IAS;

/** The offset of an address (or the prot bits of an entry) within its 4 KiB page. */
export function pageOffset(x: number): number {
  return x & (IOMMU_PAGE_SIZE - 1);
}

/** The entry of `iova` in its last-level table (`&` truncates, which is the floor: IOVAs are not negative). */
function pteIndex(iova: number): number {
  return (iova * PAGE_SCALE) & (PTES_PER_TABLE - 1);
}

/** What table() finds where no table was allocated: every entry empty. It is never written. */
const NO_TABLE = new Float64Array(PTES_PER_TABLE);

/** struct arm_lpae_io_pgtable: one domain's tables, and the io_pgtable_ops over them. */
export class ArmLpaeIoPgtable {
  /** Last-level tables by IOVA / 2 MiB; an entry is 0 or (page address + prot + PTE_VALID). */
  private readonly tables = new Map<number, Float64Array>();
  /** The table last used and its key. NaN matches no key, and keeps the field a double: keys are compared unconverted. */
  private lastKey = NaN;
  private lastTable: Float64Array = NO_TABLE;
  /** Block entries (2 MiB at level 2, 1 GiB at level 1) by size, then by IOVA / size. */
  private readonly blocks = new Map<number, Map<number, number>>(IO_PGTABLE_BLOCK_SIZES.map((s) => [s, new Map<number, number>()]));
  private blockCount = 0;

  /** alloc_io_pgtable_ops(ARM_64_LPAE_S1, cfg): the log is where its WARNs go. */
  constructor(private readonly log: KernelLog) {}

  /**
   * arm_lpae_map_pages() for one entry of `pgsize` (a size of IO_PGTABLE_BLOCK_SIZES or the
   * granule): WARN and -ERANGE for an IOVA beyond the input address size (iaext), WARN and
   * -EEXIST over an existing entry (arm_lpae_init_pte(): "We require an unmap first").
   */
  map_pages(iova: number, paddr: number, pgsize: number, prot: number): number {
    if (iova >= IAS_LIMIT) {
      this.log.warn(WARN_SITES.lpaeMapPages, '');
      return -ERANGE;
    }
    const ret = pgsize === IOMMU_PAGE_SIZE ? this.setPte(iova, paddr, prot) : this.setBlock(iova, paddr, prot, pgsize);
    if (ret !== 0) this.log.warn(WARN_SITES.lpaeInitPte, '');
    return ret;
  }

  /**
   * __arm_lpae_unmap() for the entry at `iova`, of at most `size` bytes: a block goes whole or
   * not at all (WARN_ONCE), a hole WARNs. Returns the bytes unmapped, 0 for either failure.
   */
  unmap_pages(iova: number, size: number): number {
    const block = this.blockAt(iova);
    if (block !== 0) {
      if (iova % block !== 0 || size < block) {
        this.log.warnOnce(WARN_SITES.lpaeUnmapPartial, 'Unmap of a partial large IOPTE is not allowed');
        return 0;
      }
      this.clearBlock(iova, block);
      return block;
    }
    if (!this.clearPte(iova)) {
      this.log.warn(WARN_SITES.lpaeUnmapEmpty, ''); // WARN_ON(!pte)
      return 0;
    }
    return IOMMU_PAGE_SIZE;
  }

  /** arm_lpae_iova_to_phys(): the leaf's page plus the offset in it; 0 when nothing is mapped. */
  iova_to_phys(iova: number): number {
    const pte = this.pte(iova);
    if (pte === 0) return 0;
    return pte - pageOffset(pte) + pageOffset(iova);
  }

  /**
   * The leaf entry for the 4 KiB page of `iova` (0: none); inside a block, the entry that page
   * would have (the block's address plus the page's offset in it, with the block's prot bits).
   */
  pte(iova: number): number {
    const pte = this.table(iova, false)[pteIndex(iova)] as number;
    return pte !== 0 || this.blockCount === 0 ? pte : this.blockPte(iova);
  }

  /** Last-level table pages allocated (they are not freed when emptied, as io-pgtable-arm keeps them). */
  get tablePages(): number {
    return this.tables.size;
  }

  /**
   * The last-level table covering `iova`: NO_TABLE where none was allocated, unless `create`
   * allocates it (a table page allocated on map).
   */
  private table(iova: number, create: boolean): Float64Array {
    const key = Math.floor(iova * TABLE_SCALE);
    return key === this.lastKey ? this.lastTable : this.walk(key, create);
  }

  /** table() for another table than the last one used (kept apart so the hit stays inlinable). */
  private walk(key: number, create: boolean): Float64Array {
    let t = this.tables.get(key);
    if (t === undefined) {
      if (!create) return NO_TABLE;
      t = new Float64Array(PTES_PER_TABLE);
      this.tables.set(key, t);
    }
    this.lastKey = key;
    this.lastTable = t;
    return t;
  }

  private blockPte(iova: number): number {
    for (const size of IO_PGTABLE_BLOCK_SIZES) {
      const e = (this.blocks.get(size) as Map<number, number>).get(Math.floor(iova / size));
      if (e !== undefined) return e + (iova % size) - pageOffset(iova);
    }
    return 0;
  }

  /** The size of the block entry holding `iova`, or 0. */
  private blockAt(iova: number): number {
    if (this.blockCount === 0) return 0;
    for (const size of IO_PGTABLE_BLOCK_SIZES) if ((this.blocks.get(size) as Map<number, number>).has(Math.floor(iova / size))) return size;
    return 0;
  }

  /**
   * arm_lpae_init_pte() at a block level: -EEXIST over a leaf, or over a table that still maps
   * pages; an empty table is freed for the block, as the kernel replaces it.
   */
  private setBlock(iova: number, paddr: number, prot: number, size: number): number {
    if (this.blockAt(iova) !== 0 || this.blockAt(iova + size - 1) !== 0) return -EEXIST;
    for (let k = Math.floor(iova / TABLE_SPAN); k < (iova + size) / TABLE_SPAN; k++) {
      const t = this.tables.get(k);
      if (t === undefined) continue;
      if (t.some((e) => e !== 0)) return -EEXIST;
      this.tables.delete(k);
      if (this.lastKey === k) { this.lastKey = NaN; this.lastTable = NO_TABLE; }
    }
    (this.blocks.get(size) as Map<number, number>).set(Math.floor(iova / size), paddr + (prot & 0x7ff) + PTE_VALID);
    this.blockCount++;
    return 0;
  }

  /** Clears the block entry of `size` at `iova` (which the caller found there). */
  private clearBlock(iova: number, size: number): void {
    (this.blocks.get(size) as Map<number, number>).delete(Math.floor(iova / size));
    this.blockCount--;
  }

  /** arm_lpae_init_pte() at the last level: -EEXIST if a leaf is already there. */
  private setPte(iova: number, paddr: number, prot: number): number {
    const t = this.table(iova, true);
    const i = pteIndex(iova);
    if (t[i] !== 0) return -EEXIST;
    t[i] = paddr + (prot & 0x7ff) + PTE_VALID;
    return 0;
  }

  /** Clears one leaf; false when there was none. */
  private clearPte(iova: number): boolean {
    const t = this.table(iova, false);
    const i = pteIndex(iova);
    if (t[i] === 0) return false;
    t[i] = 0;
    return true;
  }
}
