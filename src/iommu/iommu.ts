// The IOMMU core and the hardware behind it: drivers/iommu/iommu.c (groups, default domain types,
// iommu.passthrough and iommu.strict, iommu_map/iommu_unmap, the IOTLB flush calls) over the
// page tables of io-pgtable-arm.ts, and the translation every bus
// access of a device behind the IOMMU goes through: an IOTLB that keeps a translation until it
// is invalidated, and a fault reported as arm-smmu-v3 (arm64) or the Intel DMAR unit (x86_64)
// reports it. drivers/iommu/dma-iommu.c, on top of this, is dma-iommu.ts.

import type { IommuDmaCookie } from './dma-iommu.js';
import { dev_bus_name, dev_is_pci, type Device, type DeviceIommuOptions, type DevIommu } from '../dma/device.js';
import type { Arch } from '../arch/arch.js';
import type { HostStats } from '../engine/port.js';
import { DmaFaultError } from '../lib/errors.js';
import { KERN_ERR, KERN_INFO, type KernelLog } from '../lib/printk.js';
import { sg_phys, type Scatterlist } from '../dma/scatterlist.js';
import { pa, sharpX } from '../lib/vsprintf.js';
import { ArmLpaeIoPgtable, IO_PGTABLE_BLOCK_SIZES, IO_PGTABLE_IAS, IOMMU_PAGE_SIZE, pageOffset } from './io-pgtable-arm.js';

/** Protection flags, include/linux/iommu.h. */
export const IOMMU_READ = 1 << 0;
export const IOMMU_WRITE = 1 << 1;
export const IOMMU_CACHE = 1 << 2;
export const IOMMU_NOEXEC = 1 << 3;
export const IOMMU_MMIO = 1 << 4;
export const IOMMU_PRIV = 1 << 5;

/** Domain types, include/linux/iommu.h. */
const __IOMMU_DOMAIN_PAGING = 1 << 0;
const __IOMMU_DOMAIN_DMA_API = 1 << 1;
const __IOMMU_DOMAIN_PT = 1 << 2;
const __IOMMU_DOMAIN_DMA_FQ = 1 << 3;
export const IOMMU_DOMAIN_IDENTITY = __IOMMU_DOMAIN_PT;
export const IOMMU_DOMAIN_DMA = __IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API;
export const IOMMU_DOMAIN_DMA_FQ = __IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API | __IOMMU_DOMAIN_DMA_FQ;

/**
 * Translations the IOTLB holds. The capacity is implementation defined; this is a small SMMU TLB.
 * The oldest fill is dropped first (Iotlb).
 */
const IOTLB_ENTRIES = 128;
/** enum iommu_resv_type (include/linux/iommu.h), the two dmasim's IOMMUs report. */
export const IOMMU_RESV_MSI = 3;
export const IOMMU_RESV_SW_MSI = 4;

/** struct iommu_resv_region: start, length, type. */
export interface IommuResvRegion {
  readonly start: number;
  readonly length: number;
  readonly type: number;
}

/**
 * arm_smmu_get_resv_regions(): MSI_IOVA_BASE/LENGTH as IOMMU_RESV_SW_MSI (software-managed: the
 * DMA layer maps MSI doorbells there itself); intel_iommu_get_resv_regions(): the IOAPIC range
 * as IOMMU_RESV_MSI.
 */
const RESERVED_REGIONS: Readonly<Record<Arch['name'], readonly IommuResvRegion[]>> = {
  arm64: [{ start: 0x800_0000, length: 0x10_0000, type: IOMMU_RESV_SW_MSI }],
  x86_64: [{ start: 0xfee0_0000, length: 0x10_0000, type: IOMMU_RESV_MSI }],
};

const EINVAL = 22;

/** iommu_domain_type_str() */
function domainTypeStr(type: number): string {
  if (type === IOMMU_DOMAIN_IDENTITY) return 'Passthrough';
  return type === IOMMU_DOMAIN_DMA || type === IOMMU_DOMAIN_DMA_FQ ? 'Translated' : 'Unknown';
}


/** struct iommu_domain: its type, its page tables, dma-iommu's cookie, and the IOTLB entries tagged with it. */
export class IommuDomain {
  /** geometry.aperture_end (force_aperture): what the page tables' input address size covers. */
  readonly aperture_end = 2 ** IO_PGTABLE_IAS - 1;
  /** domain->iova_cookie: dma-iommu's state (iova domain, flush queue), set by iommu_dma_init_domain(). */
  cookie: IommuDmaCookie | null = null;
  /** Cached translations: IOVA page number -> entry, in fill order. */
  readonly iotlb = new Iotlb();

  /** @param pgtbl the io_pgtable_ops the domain maps through (arm_smmu_domain_finalise()) */
  constructor(readonly type: number, readonly id: number, readonly pgtbl: ArmLpaeIoPgtable) {}
}

/** Buckets of the IOTLB's index (twice its entries, so that a probe is short), and their mask. */
const IOTLB_BUCKETS = 2 * IOTLB_ENTRIES;
const BUCKET_MASK = IOTLB_BUCKETS - 1;
const BUCKET_SHIFT = 32 - Math.log2(IOTLB_BUCKETS);

/**
 * A page's home bucket, by Fibonacci hashing of its low 32 bits: IOVAs come from the top of the
 * space down, in runs of consecutive pages, and their low bits alone would pile every entry into
 * one probe run that each deletion then walks and shifts.
 */
function homeBucket(pfn: number): number {
  return Math.imul(pfn | 0, 0x9e37_79b1) >>> BUCKET_SHIFT;
}

/**
 * The IOTLB's entries: IOVA page number -> page-table entry, kept in fill order (the oldest is
 * dropped first). What a Map in insertion order would hold, in typed arrays: an IOTLB fills and
 * drops an entry for nearly every packet, and a Map's table churn and boxed entries made that
 * the IOMMU path's largest allocation. Entries sit in slots; an index of linear-probing buckets
 * (with deletion by backward shift) finds a page's slot, and a list through the slots keeps the
 * fill order.
 */
export class Iotlb {
  private readonly pfns = new Float64Array(IOTLB_ENTRIES);
  private readonly ptes = new Float64Array(IOTLB_ENTRIES);
  /** Fill order: the next newer and older slot (-1: none), the oldest and newest slot. */
  private readonly newer = new Int16Array(IOTLB_ENTRIES);
  private readonly older = new Int16Array(IOTLB_ENTRIES);
  private oldest = -1;
  private newest = -1;
  /** Bucket -> slot + 1 (0: empty). */
  private readonly buckets = new Int16Array(IOTLB_BUCKETS);
  /** Free slots, a stack. */
  private readonly freeSlots = new Int16Array(IOTLB_ENTRIES);
  private nfree = IOTLB_ENTRIES;
  size = 0;

  constructor() {
    for (let i = 0; i < IOTLB_ENTRIES; i++) this.freeSlots[i] = IOTLB_ENTRIES - 1 - i;
  }

  /** The entry cached for a page, or 0 (no entry caches 0: it is no translation). */
  get(pfn: number): number {
    const b = this.bucketOf(pfn);
    return b < 0 ? 0 : (this.ptes[(this.buckets[b] as number) - 1] as number);
  }

  /** Caches a page's entry (the page has none), dropping the oldest entry when the IOTLB is full. */
  fill(pfn: number, pte: number): void {
    if (this.size >= IOTLB_ENTRIES) this.delete(this.pfns[this.oldest] as number);
    const slot = this.freeSlots[--this.nfree] as number;
    this.pfns[slot] = pfn;
    this.ptes[slot] = pte;
    let b = homeBucket(pfn);
    while (this.buckets[b] !== 0) b = (b + 1) & BUCKET_MASK;
    this.buckets[b] = slot + 1;
    this.older[slot] = this.newest;
    this.newer[slot] = -1;
    if (this.newest >= 0) this.newer[this.newest] = slot;
    else this.oldest = slot;
    this.newest = slot;
    this.size++;
  }

  /** Drops a page's entry, if cached. */
  delete(pfn: number): void {
    const b = this.bucketOf(pfn);
    if (b < 0) return;
    const slot = (this.buckets[b] as number) - 1;
    this.unindex(b);
    const o = this.older[slot] as number;
    const n = this.newer[slot] as number;
    if (o >= 0) this.newer[o] = n;
    else this.oldest = n;
    if (n >= 0) this.older[n] = o;
    else this.newest = o;
    this.freeSlots[this.nfree++] = slot;
    this.size--;
  }

  /** Drops every entry. */
  clear(): void {
    while (this.oldest >= 0) this.delete(this.pfns[this.oldest] as number);
  }

  /** The cached pages, oldest first (a copy: the caller may delete as it goes). */
  pages(): number[] {
    const out: number[] = [];
    for (let s = this.oldest; s >= 0; s = this.newer[s] as number) out.push(this.pfns[s] as number);
    return out;
  }

  /** [page, entry] pairs, oldest first. */
  *[Symbol.iterator](): IterableIterator<[number, number]> {
    for (const pfn of this.pages()) yield [pfn, this.get(pfn)];
  }

  /** The bucket that indexes a page, or -1. */
  private bucketOf(pfn: number): number {
    for (let b = homeBucket(pfn); ; b = (b + 1) & BUCKET_MASK) {
      const e = this.buckets[b] as number;
      if (e === 0) return -1;
      if (this.pfns[e - 1] === pfn) return b;
    }
  }

  /** Empties bucket `hole`, shifting back the entries of its probe run that may no longer reach theirs. */
  private unindex(hole: number): void {
    this.buckets[hole] = 0;
    for (let b = (hole + 1) & BUCKET_MASK; this.buckets[b] !== 0; b = (b + 1) & BUCKET_MASK) {
      const e = this.buckets[b] as number;
      const home = homeBucket(this.pfns[e - 1] as number);
      // The entry stays unless its home lies cyclically in (hole, b].
      const stays = hole <= b ? home > hole && home <= b : home > hole || home <= b;
      if (stays) continue;
      this.buckets[hole] = e;
      this.buckets[b] = 0;
      hole = b;
    }
  }
}

/**
 * iommu_pgsize(): the largest page size of pgsize_bitmap that both addresses are aligned to and
 * the rest of the range fills.
 */
function iommu_pgsize(iova: number, paddr: number, size: number): number {
  for (const pg of IO_PGTABLE_BLOCK_SIZES) if (size >= pg && iova % pg === 0 && paddr % pg === 0) return pg;
  return IOMMU_PAGE_SIZE;
}

/**
 * The IOTLB entries of [start, end) dropped (an IOTLB with nothing cached costs nothing to sync).
 * A range of fewer pages than the IOTLB holds entries is dropped page by page, else the entries
 * are scanned: the same entries go either way, and the rest keep their fill order.
 */
function invalidateRange(tlb: Iotlb, start: number, end: number): void {
  const first = Math.ceil(start / IOMMU_PAGE_SIZE);
  const last = Math.ceil(end / IOMMU_PAGE_SIZE);
  if (last - first < tlb.size) {
    for (let pfn = first; pfn < last; pfn++) tlb.delete(pfn);
    return;
  }
  for (const pfn of tlb.pages()) {
    const a = pfn * IOMMU_PAGE_SIZE;
    if (a >= start && a < end) tlb.delete(pfn);
  }
}

/** struct iommu_group: devices the IOMMU cannot tell apart share one group and its domain. */
export class IommuGroup {
  readonly devices: Device[] = [];
  constructor(readonly id: number, readonly name: string, readonly domain: IommuDomain) {}
}

/** struct iommu_iotlb_gather: the IOVA range an unmap touched, flushed together. */
export class IotlbGather {
  start = Infinity;
  end = 0;
  /** The unmap goes to the flush queue instead of being synced now (lazy mode). */
  queued = false;
}

declare module '../dma/device.js' {
  /** What dev->iommu holds for a device behind the IOMMU (struct dev_iommu and friends). */
  interface DevIommu {
    readonly group: IommuGroup;
    readonly domain: IommuDomain;
    /** pci_dev->untrusted: an external-facing device, always strict, bounced when unaligned. */
    readonly untrusted: boolean;
    /** dev_is_pci(): the 32-bit IOVA space is tried first while pci_32bit_workaround holds. */
    readonly pci: boolean;
    pci_32bit_workaround: boolean;
    /** The stream ID (arm64) or requester ID (x86_64) the IOMMU sees: bus 0, device n, function 0. */
    readonly sid: number;
    /** dev->iommu->iommu_dev: the IOMMU the device sits behind. */
    readonly iommu_dev: Iommu;
    /** translate() of an access inside one IOMMU page: its RAM offset (Iommu.translatePage()). */
    translatePage(dev: Device, iova: number, len: number, write: boolean): number;
  }
}

/** struct dev_iommu: a device's group, domain and IDs, and its bus accesses translated. */
class DevIommuState implements DevIommu {
  readonly translates: boolean;
  readonly domain: IommuDomain;
  pci_32bit_workaround: boolean;

  constructor(
    readonly iommu_dev: Iommu, readonly group: IommuGroup, readonly untrusted: boolean,
    readonly pci: boolean, pci32: boolean, readonly sid: number,
  ) {
    this.domain = group.domain;
    this.translates = group.domain.type !== IOMMU_DOMAIN_IDENTITY;
    this.pci_32bit_workaround = pci32;
  }

  iova_to_phys(iova: number): number {
    return this.iommu_dev.iommu_iova_to_phys(this.domain, iova);
  }

  translate(dev: Device, iova: number, len: number, write: boolean): readonly number[] {
    return this.iommu_dev.translate(dev, this, iova, len, write);
  }

  translatePage(dev: Device, iova: number, len: number, write: boolean): number {
    return this.iommu_dev.translatePage(dev, this, iova, len, write);
  }
}

export type { DevIommu, DeviceIommuOptions };

/** What the IOMMU needs from the machine, handed in by machine.ts. */
export interface IommuHost {
  readonly arch: Pick<Arch, 'name'>;
  readonly log: KernelLog;
  readonly hostStats: HostStats;
  physToOffset(phys: number, len: number): number;
}


/**
 * The machine's IOMMU: iommu.c's globals (iommu_def_domain_type, iommu_dma_strict), its groups,
 * and the hardware's translation and fault reporting.
 */
export class Iommu {
  /** iommu_def_domain_type after iommu_subsys_init() */
  readonly defDomainType: number;
  /** iommu_dma_strict */
  readonly strict: boolean;
  /** iommu_dma_forcedac (dma-iommu.c's iommu.forcedac early_param) */
  readonly forcedac: boolean;
  private readonly groups = new Map<string, IommuGroup>();
  private nextGroupId = 0;
  private nextDomainId = 1;
  private nextSid = 1;
  /** Runs of a translated access: [offset, length, iova] triples, reused between accesses. */
  private readonly runs: number[] = [];

  /**
   * iommu_subsys_init(): the default domain type (translated unless iommu.passthrough=1) and, when
   * it translates, the invalidation policy: strict on arm64 and lazy on x86_64
   * (CONFIG_IOMMU_DEFAULT_DMA_STRICT / _LAZY's Kconfig defaults) unless iommu.strict says otherwise.
   */
  constructor(private readonly m: IommuHost, params: ReadonlyMap<string, string | undefined>) {
    // A malformed value was refused when the command line was parsed: as if it were absent.
    const pt = kstrtobool(params.get('iommu.passthrough'));
    const strictParam = kstrtobool(params.get('iommu.strict'));
    this.strict = strictParam ?? m.arch.name !== 'x86_64';
    this.forcedac = kstrtobool(params.get('iommu.forcedac')) === true;
    const passthrough = pt === true;
    this.defDomainType = passthrough ? IOMMU_DOMAIN_IDENTITY : this.strict ? IOMMU_DOMAIN_DMA : IOMMU_DOMAIN_DMA_FQ;
    m.log.pr_info(`iommu: Default domain type: ${domainTypeStr(this.defDomainType)}${pt !== null ? ' (set via kernel command line)' : ''}`);
    if (!passthrough) {
      m.log.pr_info(`iommu: DMA domain TLB invalidation policy: ${this.strict ? 'strict' : 'lazy'} mode${strictParam !== null ? ' (set via kernel command line)' : ''}`);
    }
  }

  /** The IOVA ranges the IOMMU driver reports as reserved (iommu_get_resv_regions()). */
  get reservedRegions(): readonly IommuResvRegion[] {
    return RESERVED_REGIONS[this.m.arch.name];
  }

  /**
   * __iommu_probe_device(): the device joins its group (a new one unless it names an existing
   * group). A new group gets its default domain from iommu_get_default_domain_type(), where an
   * untrusted device forces IOMMU_DOMAIN_DMA (strict); a device joining a group that already has
   * a domain is attached to that domain, whatever its type (__iommu_device_set_domain()). The
   * refusal "Device is not trusted, but driver is overriding group %u to %s, refusing to probe."
   * answers only a type the IOMMU driver's def_domain_type() requests, which dmasim's IOMMUs do
   * not. "Adding to iommu group" is printed before any driver binds, so its prefix is the bus.
   */
  probeDevice(dev: Device, opts: DeviceIommuOptions): DevIommu {
    const untrusted = opts.untrusted === true;
    const name = opts.group ?? `#${this.nextGroupId}`;
    let group = this.groups.get(name);
    if (group === undefined) {
      const type = untrusted ? IOMMU_DOMAIN_DMA : this.defDomainType;
      group = new IommuGroup(this.nextGroupId++, name, new IommuDomain(type, this.nextDomainId++, new ArmLpaeIoPgtable(this.m.log)));
      this.groups.set(name, group);
    }
    group.devices.push(dev);
    const pci = opts.pci === true;
    this.m.log.printk(KERN_INFO, `${dev_bus_name(dev)} ${dev.name}: Adding to iommu group ${group.id}`);
    // iommu_setup_dma_ops(): dev->iommu->pci_32bit_workaround = !iommu_dma_forcedac.
    return new DevIommuState(this, group, untrusted, pci, pci && !this.forcedac, this.streamId(dev));
  }

  /**
   * The requester ID (PCI_DEVID: bus << 8 | devfn) of a device named by its PCI address
   * ("0000:05:00.0"), which is what the SMMU's StreamID and the DMAR source-id are; other
   * devices get the next free device number on bus 0, as firmware would list them.
   */
  private streamId(dev: Device): number {
    if (!dev_is_pci(dev)) return (this.nextSid++) << 3;
    const [bus, slot, fn] = dev.name.slice(5).split(/[:.]/).map((x) => parseInt(x, 16)) as [number, number, number];
    return (bus << 8) | ((slot & 0x1f) << 3) | fn;
  }

  // ---- iommu.c: map, unmap, flush ------------------------------------------------------

  /**
   * iommu_map() / __iommu_map(): every page or nothing. Unaligned arguments are refused with
   * pr_err; each piece iommu_pgsize() chooses goes to the page tables, and when one fails (a
   * WARN there) what was mapped is unmapped again and the error returned.
   */
  iommu_map(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number {
    if (pageOffset(iova | paddr | size) !== 0) return this.unaligned(iova, paddr, size);
    this.m.hostStats.iommuMaps++;
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return 0; // arm_lpae_map_pages(): nothing to map
    // arm_lpae_prot_to_pte(), stage 1 (SMMUv3's DMA domains): the AP bits only express
    // read-only, so every valid entry is readable and a write-only mapping is read-write.
    if (this.m.arch.name === 'arm64') prot |= IOMMU_READ;
    for (let done = 0; done < size;) {
      const pg = iommu_pgsize(iova + done, paddr + done, size - done);
      const ret = domain.pgtbl.map_pages(iova + done, paddr + done, pg, prot);
      if (ret !== 0) {
        if (done > 0) this.iommu_unmap(domain, iova, done);
        return ret;
      }
      done += pg;
    }
    return 0;
  }

  private unaligned(iova: number, paddr: number, size: number): number {
    this.m.log.pr_err(`iommu: unaligned: iova ${sharpX(iova)} pa ${pa(paddr)} size ${sharpX(size)} min_pagesz 0x${IOMMU_PAGE_SIZE.toString(16)}`);
    return -EINVAL;
  }

  /**
   * __iommu_unmap(): entry by entry until the page tables refuse one (a hole, or part of a
   * block, which io-pgtable-arm WARNs about). Returns the bytes unmapped; the range joins
   * `gather` for the IOTLB invalidation.
   */
  iommu_unmap_fast(domain: IommuDomain, iova: number, size: number, gather: IotlbGather): number {
    if (pageOffset(iova | size) !== 0) return this.unalignedUnmap(iova, size);
    this.m.hostStats.iommuMaps++;
    let unmapped = 0;
    while (unmapped < size) {
      const n = domain.pgtbl.unmap_pages(iova + unmapped, size - unmapped);
      if (n === 0) break;
      unmapped += n;
    }
    if (unmapped > 0) {
      gather.start = Math.min(gather.start, iova);
      gather.end = Math.max(gather.end, iova + unmapped);
    }
    return unmapped;
  }

  private unalignedUnmap(iova: number, size: number): number {
    this.m.log.pr_err(`iommu: unaligned: iova ${sharpX(iova)} size ${sharpX(size)} min_pagesz 0x${IOMMU_PAGE_SIZE.toString(16)}`);
    return 0;
  }

  /** iommu_unmap(): unmap and sync the IOTLB at once. */
  iommu_unmap(domain: IommuDomain, iova: number, size: number): number {
    const gather = new IotlbGather();
    const n = this.iommu_unmap_fast(domain, iova, size, gather);
    this.iommu_iotlb_sync(domain, gather);
    return n;
  }

  /** iommu_iotlb_sync(): invalidate the gathered range (arm_smmu_iotlb_sync() does nothing for an empty gather). */
  iommu_iotlb_sync(domain: IommuDomain, gather: IotlbGather): void {
    if (gather.end <= gather.start) return;
    this.m.hostStats.iotlbFlushes++;
    if (domain.iotlb.size !== 0) invalidateRange(domain.iotlb, gather.start, gather.end);
  }

  /** iommu_flush_iotlb_all(): the whole domain's translations are invalidated. */
  iommu_flush_iotlb_all(domain: IommuDomain): void {
    this.m.hostStats.iotlbFlushes++;
    domain.iotlb.clear();
  }

  /**
   * iommu_map_sg(): physically contiguous entries are mapped together, one after the other from
   * `iova`. Returns the bytes mapped, or the error, after unmapping what was mapped.
   */
  iommu_map_sg(domain: IommuDomain, iova: number, sgl: readonly Scatterlist[], nents: number, prot: number): number {
    let mapped = 0;
    let start = 0;
    let len = 0;
    for (let i = 0; i <= nents; i++) {
      const s = i < nents ? sgl[i] as Scatterlist : null;
      const phys = s === null ? -1 : sg_phys(s);
      if (len !== 0 && phys !== start + len) {
        const ret = this.iommu_map(domain, iova + mapped, start, len, prot);
        if (ret !== 0) {
          if (mapped > 0) this.iommu_unmap(domain, iova, mapped);
          return ret;
        }
        mapped += len;
        len = 0;
      }
      if (s === null) break;
      if (len !== 0) {
        len += s.length;
      } else {
        len = s.length;
        start = phys;
      }
    }
    return mapped;
  }

  /** iommu_iova_to_phys(): from the page tables (not the IOTLB); 0 when nothing is mapped. */
  iommu_iova_to_phys(domain: IommuDomain, iova: number): number {
    // `+iova`: a number like the table walk's result, which V8 would otherwise box to merge it
    // with the parameter as it stands (every unmap calls this).
    if (domain.type === IOMMU_DOMAIN_IDENTITY) return +iova;
    return domain.pgtbl.iova_to_phys(iova);
  }

  // ---- the hardware: a device's bus access ------------------------------------------------

  /**
   * Translates a device access of [iova, iova + len) for reading or writing: the IOTLB first
   * (a translation stays usable until it is invalidated, which is what lazy mode's window is),
   * then a table walk that fills it. Returns [offset, length, iova] triples of physically
   * contiguous runs in the machine's memory, or reports a fault and throws DmaFaultError before
   * anything was accessed.
   */
  translate(dev: Device, d: DevIommu, iova: number, len: number, write: boolean): readonly number[] {
    const runs = this.runs;
    runs.length = 0;
    const need = write ? IOMMU_WRITE : IOMMU_READ;
    const end = iova + len;
    let a = iova;
    do {
      const pageEnd = Math.min(end, (Math.floor(a / IOMMU_PAGE_SIZE) + 1) * IOMMU_PAGE_SIZE);
      const n = Math.max(pageEnd - a, 0);
      const off = this.translateInPage(dev, d, a, n, len, need);
      const last = runs.length - 3;
      if (last >= 0 && (runs[last] as number) + (runs[last + 1] as number) === off) runs[last + 1] = (runs[last + 1] as number) + n;
      else runs.push(off, n, a);
      a = pageEnd;
    } while (a < end);
    return runs;
  }

  /**
   * translate() of an access that stays inside one IOMMU page: the RAM offset it lands on, with
   * the same IOTLB lookup and the same fault. The batched NIC path translates its device's
   * accesses with it, one per packet buffer and descriptor, without the runs.
   */
  translatePage(dev: Device, d: DevIommu, iova: number, len: number, write: boolean): number {
    return this.translateInPage(dev, d, iova, len, len, write ? IOMMU_WRITE : IOMMU_READ);
  }

  /**
   * One page of an access of `len` bytes: the `n` bytes from `a`, which need `need`. The IOTLB
   * or the walk gives the entry; no entry or no permission is a fault, an entry outside RAM a
   * DmaFaultError.
   */
  private translateInPage(dev: Device, d: DevIommu, a: number, n: number, len: number, need: number): number {
    const pte = a > d.domain.aperture_end ? 0 : this.lookup(d.domain, Math.floor(a / IOMMU_PAGE_SIZE));
    if (pte === 0 || !(pte & need)) this.fault(dev, d, a, len, need === IOMMU_WRITE, pte === 0);
    const phys = pte - pageOffset(pte) + pageOffset(a);
    const off = this.m.physToOffset(phys, Math.max(n, 1));
    if (off < 0) throw new DmaFaultError(dev.name, a, n, `IOVA ${sharpX(a)} translates to ${sharpX(phys)}, which is not RAM`);
    return off;
  }

  /** An IOTLB hit, or a walk of the page tables that fills the IOTLB (0: no translation). */
  private lookup(domain: IommuDomain, pfn: number): number {
    const tlb = domain.iotlb;
    const hit = tlb.get(pfn);
    if (hit !== 0) return hit;
    const pte = domain.pgtbl.pte(pfn * IOMMU_PAGE_SIZE);
    if (pte !== 0) tlb.fill(pfn, pte);
    return pte;
  }

  /** The IOMMU's fault report, ratelimited as the drivers' are; the device gets DmaFaultError. */
  private fault(dev: Device, d: DevIommu, iova: number, len: number, write: boolean, translation: boolean): never {
    this.m.hostStats.iommuFaults++;
    const log = this.m.log;
    if (this.m.arch.name !== 'arm64') {
      dmarFault(log, d, iova, write);
    } else if (log.ratelimit('arm_smmu_evtq_thread')) {
      for (const line of smmuEvent(dev, d, iova, write, translation)) log.printk(KERN_ERR, line);
    }
    throw new DmaFaultError(dev.name, iova, len, `IOMMU ${translation ? 'translation' : 'permission'} fault (${write ? 'write' : 'read'} of IOVA ${sharpX(iova)})`);
  }
}

const SMMU = 'arm-smmu-v3 arm-smmu-v3.0.auto';
const EVT_ID_TRANSLATION_FAULT = 0x10;
const EVT_ID_PERMISSION_FAULT = 0x13;
/** event_class_str[EVTQ_1_CLASS]: a stage 1 fault on the input address is class 2. */
const CLASS_IN = 2;

/**
 * arm_smmu_dump_raw_event() and arm_smmu_dump_event() (drivers/iommu/arm/arm-smmu-v3): the raw
 * event queue entry, then the decoded fault. The raw words are encoded as the SMMU writes them
 * (EVTQ_0_ID/SID, EVTQ_1_RnW/CLASS, EVTQ_2_ADDR).
 */
function smmuEvent(dev: Device, d: DevIommu, iova: number, write: boolean, translation: boolean): string[] {
  const id = translation ? EVT_ID_TRANSLATION_FAULT : EVT_ID_PERMISSION_FAULT;
  const w0 = (BigInt(d.sid) << 32n) | BigInt(id);
  const w1 = (BigInt(CLASS_IN) << 40n) | (write ? 0n : 1n << 35n);
  const raw = [w0, w1, BigInt(iova), 0n];
  return [
    `${SMMU}: event 0x${id.toString(16).padStart(2, '0')} received:`,
    ...raw.map((w) => `${SMMU}: \t${pa(w)}`),
    `${SMMU}: event: ${translation ? 'F_TRANSLATION' : 'F_PERMISSION'} client: ${dev.name} sid: ${sharpX(d.sid)} ssid: 0x0 iova: ${sharpX(iova)} ipa: 0x0`,
    `${SMMU}: unpriv data ${write ? 'write' : 'read'} s1 "Input address caused fault" stag: 0x0`,
  ];
}

/**
 * dmar_fault() (drivers/iommu/intel/dmar.c) for an interrupt with one fault recorded: its one
 * ratelimit state is asked for the status line, then once per fault record read, including the
 * empty record that ends the loop, so three times per interrupt; then dmar_fault_do_one(). With
 * legacy tables a non-present entry has neither R nor W, so an unmapped IOVA reads as a
 * permission fault, reason 5 (write) or 6 (read).
 */
function dmarFault(log: KernelLog, d: DevIommu, iova: number, write: boolean): void {
  const bdf = `${(d.sid >> 8).toString(16).padStart(2, '0')}:${((d.sid >> 3) & 0x1f).toString(16).padStart(2, '0')}.${d.sid & 7}`;
  const reason = write ? 5 : 6;
  if (log.ratelimit('dmar_fault')) log.printk(KERN_ERR, 'DMAR: DRHD: handling fault status reg 2');
  if (log.ratelimit('dmar_fault')) {
    log.printk(KERN_ERR, `DMAR: [DMA ${write ? 'Write' : 'Read'} NO_PASID] Request device [${bdf}] fault addr ${sharpX(iova)} [fault reason 0x${reason.toString(16).padStart(2, '0')}] PTE ${write ? 'Write' : 'Read'} access is not set`);
  }
  log.ratelimit('dmar_fault'); // the next record has no F bit: the loop ends
}

/**
 * kstrtobool() (lib/kstrtox.c): the first character decides: e/E, y/Y, t/T, 1 true; d/D, n/N,
 * f/F, 0 false; o/O then n/N (on) or f/F (off). Anything else (or no value) is refused.
 */
export function kstrtobool(s: string | undefined): boolean | null {
  if (s === undefined || s.length === 0) return null;
  const c = s.charAt(0);
  if ('eEyYtT1'.includes(c)) return true;
  if ('dDnNfF0'.includes(c)) return false;
  if (c === 'o' || c === 'O') {
    const c1 = s.charAt(1);
    if (c1 === 'n' || c1 === 'N') return true;
    if (c1 === 'f' || c1 === 'F') return false;
  }
  return null;
}

