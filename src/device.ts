// struct device as the DMA layer sees it (include/linux/device.h, include/linux/dma-direct.h):
// its name and driver, whether it is DMA-coherent, and its bus offsets (dma_range_map). A device
// is a bus master: it reaches RAM only through DMA addresses, and the CPU cache only if coherent.

import { DmaFaultError, DmaSimTypeError } from './errors.js';
import type { Machine } from './machine.js';
import { checkAddr, checkBool, checkBytes, checkIntIn, checkSize, checkString } from './validate.js';

/** struct bus_dma_region: a window of bus addresses onto physical memory. */
export interface BusDmaRegion {
  readonly cpu_start: number;
  readonly dma_start: number;
  readonly size: number;
}

export interface DeviceOptions {
  /** dev_name(): required. */
  name: string;
  /** The bound driver's name (dev_driver_string()); defaults to the device name. */
  driver?: string;
  /** dev_is_dma_coherent(): defaults to the arch's norm (arm64: no, unless firmware says `dma-coherent`). */
  coherent?: boolean;
  /** dev->dma_range_map: bus offsets; without it a DMA address is the physical address. */
  dmaRangeMap?: readonly BusDmaRegion[];
}

/** DMA_MAPPING_ERROR as a number: ~(dma_addr_t)0 does not fit, so the largest exact value stands for it. */
const NO_PHYS = -1;

export class Device {
  readonly name: string;
  readonly driver: string;
  /** dev->dma_coherent */
  readonly dma_coherent: boolean;
  /** dev->dma_range_map (empty: DMA address == physical address) */
  readonly dma_range_map: readonly BusDmaRegion[];

  /** @internal created by Machine.createDevice */
  constructor(readonly machine: Machine, opts: DeviceOptions) {
    const fn = 'createDevice';
    this.name = checkString(fn, 'name', opts.name);
    this.driver = opts.driver === undefined ? this.name : checkString(fn, 'driver', opts.driver);
    this.dma_coherent = opts.coherent === undefined ? machine.arch.coherentByDefault : checkBool(fn, 'coherent', opts.coherent);
    this.dma_range_map = checkRangeMap(fn, opts.dmaRangeMap);
  }

  /** dev_driver_string(), for log prefixes. */
  get driverName(): string {
    return this.driver;
  }

  /** translate_dma_to_phys(): -1 when no region holds the whole range. */
  dmaToPhys(dma: number, len: number): number {
    if (this.dma_range_map.length === 0) return dma;
    for (const r of this.dma_range_map) {
      if (dma >= r.dma_start && dma + len <= r.dma_start + r.size) return r.cpu_start + (dma - r.dma_start);
    }
    return NO_PHYS;
  }

  /** translate_phys_to_dma(): -1 when no region holds the address. */
  physToDma(phys: number): number {
    if (this.dma_range_map.length === 0) return phys;
    for (const r of this.dma_range_map) {
      if (phys >= r.cpu_start && phys < r.cpu_start + r.size) return r.dma_start + (phys - r.cpu_start);
    }
    return NO_PHYS;
  }

  /** The RAM offset a bus access lands on, or a DmaFaultError before anything is touched. */
  private target(fn: string, dma: number, len: number): number {
    checkAddr(fn, 'dma_addr', dma);
    checkSize(fn, 'len', len);
    const phys = this.dmaToPhys(dma, len);
    const off = phys < 0 ? -1 : this.machine.physToOffset(phys, len);
    if (off < 0) throw new DmaFaultError(this.name, dma, len, 'the access reaches no RAM');
    return off;
  }

  /** The device reads [dma_addr, dma_addr + len) over the bus. */
  dmaRead(dma_addr: number, len: number): Uint8Array {
    const off = this.target('dmaRead', dma_addr, len);
    return this.machine.bus.read(off, len, this.dma_coherent);
  }

  /** The device writes `bytes` at dma_addr over the bus. */
  dmaWrite(dma_addr: number, bytes: Uint8Array | readonly number[]): void {
    const data = checkBytes('dmaWrite', 'bytes', bytes);
    const off = this.target('dmaWrite', dma_addr, data.length);
    this.machine.bus.write(off, data, this.dma_coherent);
  }

  /** The device writes `len` copies of `byte` at dma_addr. */
  dmaFill(dma_addr: number, len: number, byte: number): void {
    checkIntIn('dmaFill', 'byte', byte, 0, 255);
    const off = this.target('dmaFill', dma_addr, len);
    this.machine.bus.fill(off, len, byte, this.dma_coherent);
  }
}

function checkRangeMap(fn: string, map: unknown): readonly BusDmaRegion[] {
  if (map === undefined) return [];
  if (!Array.isArray(map)) throw new DmaSimTypeError(fn, 'dmaRangeMap', 'must be an array of { cpu_start, dma_start, size }');
  return map.map((r: Partial<BusDmaRegion>, i) => ({
    cpu_start: checkAddr(fn, `dmaRangeMap[${i}].cpu_start`, r.cpu_start),
    dma_start: checkAddr(fn, `dmaRangeMap[${i}].dma_start`, r.dma_start),
    size: checkSize(fn, `dmaRangeMap[${i}].size`, r.size),
  }));
}
