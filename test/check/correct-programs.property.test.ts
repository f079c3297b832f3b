// Property: a correct driver never loses or corrupts a byte, and the data-aware checker (and
// dma-debug beside it) is silent on it. Random
// programs that obey the DMA API's ownership rules (the CPU touches a streaming buffer only
// before map, after unmap, or between sync_for_cpu and sync_for_device; the device reads only
// TO_DEVICE/BIDIRECTIONAL mappings and writes only FROM_DEVICE/BIDIRECTIONAL ones; buffers never
// share a cache line; dma_alloc_noncoherent() memory is handed over with syncs; coherent memory is
// shared without any) run on random
// machines (arm64 or x86_64, coherent or not, batched DSBs, eviction pressure and speculative
// fills, a 4 KiB cache, 32-bit masks that bounce through swiotlb, devices behind a strict, lazy
// or untrusted IOMMU whose sg lists merge), with or without CONFIG_DMA_API_DEBUG. Every byte must
// come out right and nothing may be reported.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_alloc_coherent, dma_alloc_noncoherent,
  dma_map_page, dma_map_sg, dma_map_single, dma_mapping_error, dma_set_mask_and_coherent, dma_sync_sg_for_cpu,
  dma_sync_sg_for_device, dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_page, dma_unmap_sg,
  dma_unmap_single, GFP_KERNEL, sg_dma_address, sg_dma_len, sg_init_table, sg_set_buf,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import type { Scatterlist } from '../../src/dma/scatterlist.js';
import { pattern } from '../support/api-helpers.js';

type Dir = typeof DMA_BIDIRECTIONAL | typeof DMA_TO_DEVICE | typeof DMA_FROM_DEVICE;

interface Config {
  arch: 'arm64' | 'x86_64';
  coherent: boolean;
  batched: boolean;
  debug: boolean;
  eviction: number;
  speculation: number;
  smallCache: boolean;
  mask: 32 | 64;
  iommu: 'none' | 'strict' | 'lazy' | 'untrusted';
  seed: number;
  sizes: number[];
}

type Part = [number, number];
type Cmd =
  | { k: 'cpuWrite'; b: number; s: number; part: Part }
  | { k: 'cpuRead'; b: number }
  | { k: 'map'; b: number; dir: Dir; page: boolean }
  | { k: 'devRead'; b: number }
  | { k: 'devWrite'; b: number; s: number; part: Part }
  | { k: 'toCpu'; b: number; unmap: boolean; part: Part }
  | { k: 'toDev'; b: number }
  | { k: 'sg'; bs: number[]; dir: Dir; s: number; sync: boolean }
  | { k: 'nc'; s: number; part: Part }
  | { k: 'cohCpu'; s: number; part: Part }
  | { k: 'cohDev'; s: number; part: Part };

/**
 * Where each entry of a mapped list is on the bus. A segment holds whole entries back to back
 * (an IOMMU merges entries only when the bytes are contiguous in IOVA space), so the entries
 * are laid out over the segments in order.
 */
function entryAddresses(sgl: Scatterlist[], n: number): number[] {
  const out: number[] = [];
  let seg = 0;
  let used = 0;
  for (let i = 0; i < n; i++) {
    if (used === sg_dma_len(sgl[seg]!)) {
      seg++;
      used = 0;
    }
    out.push(sg_dma_address(sgl[seg]!) + used);
    used += sgl[i]!.length;
  }
  return out;
}

/** kmalloc sizes that never share a cache line. */
const size = fc.oneof(fc.integer({ min: 1, max: 16 }).map((k) => k * 128), fc.integer({ min: 256, max: 4096 }), fc.constant(8192));
const dir = fc.constantFrom<Dir>(DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE);
const buf = fc.oneof(fc.nat(1), fc.nat(7));
const part: fc.Arbitrary<Part> = fc.tuple(fc.nat(), fc.nat());
const seed = fc.integer({ min: 1, max: 1e9 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('cpuWrite' as const), b: buf, s: seed, part }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('cpuRead' as const), b: buf }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('map' as const), b: buf, dir, page: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('devRead' as const), b: buf }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('devWrite' as const), b: buf, s: seed, part }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('toCpu' as const), b: buf, unmap: fc.boolean(), part }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('toDev' as const), b: buf }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('sg' as const), bs: fc.array(buf, { minLength: 1, maxLength: 3 }), dir, s: seed, sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('nc' as const), s: seed, part }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cohCpu' as const), s: seed, part }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cohDev' as const), s: seed, part }) },
);
const config: fc.Arbitrary<Config> = fc.record({
  arch: fc.constantFrom<'arm64' | 'x86_64'>('arm64', 'x86_64'),
  coherent: fc.boolean(),
  batched: fc.boolean(),
  debug: fc.boolean(),
  eviction: fc.constantFrom(0, 0.2),
  speculation: fc.constantFrom(0, 0.2),
  smallCache: fc.boolean(),
  mask: fc.constantFrom<32 | 64>(32, 64),
  iommu: fc.constantFrom<Config['iommu']>('none', 'none', 'strict', 'lazy', 'untrusted'),
  seed: fc.integer({ min: 0, max: 0xffff_ffff }),
  sizes: fc.array(size, { minLength: 2, maxLength: 5 }),
});

function range(n: number, [a, b]: Part): [number, number] {
  const off = a % n;
  return [off, 1 + (b % (n - off))];
}

interface Buf {
  va: number;
  size: number;
  shadow: Uint8Array;
  /** cpu: not mapped; dev: mapped, the device owns it; synced: mapped, the CPU owns it. */
  state: 'cpu' | 'dev' | 'synced';
  dir: Dir;
  h: number;
  page: boolean;
  cpuWrote: boolean;
}

class Driver {
  readonly bufs: Buf[] = [];
  /** A dma_alloc_coherent() buffer both sides use with no sync at all. */
  readonly coh: { cpu: number; dma: number; shadow: Uint8Array };

  constructor(readonly m: Machine, readonly dev: Device, cfg: Config) {
    for (const [i, n] of cfg.sizes.entries()) {
      const va = m.kmalloc(n, GFP_KERNEL);
      const shadow = pattern(n, 1000 + i);
      m.cpu.write(va, shadow);
      this.bufs.push({ va, size: n, shadow, state: 'cpu', dir: DMA_BIDIRECTIONAL, h: 0, page: false, cpuWrote: false });
    }
    const c = dma_alloc_coherent(dev, 8192, GFP_KERNEL);
    expect(c).not.toBeNull();
    this.coh = { cpu: c!.cpu_addr, dma: c!.dma_handle, shadow: new Uint8Array(8192) };
  }

  private buf(i: number): Buf {
    return this.bufs[i % this.bufs.length] as Buf;
  }

  private check(b: Buf): void {
    expect(this.m.cpu.read(b.va, b.size)).toEqual(b.shadow);
  }

  private unmap(b: Buf): void {
    if (b.page) dma_unmap_page(this.dev, b.h, b.size, b.dir);
    else dma_unmap_single(this.dev, b.h, b.size, b.dir);
    b.state = 'cpu';
  }

  run(c: Cmd): void {
    const { m, dev } = this;
    switch (c.k) {
      case 'cpuWrite': {
        const b = this.buf(c.b);
        if (b.state === 'dev') return;
        const [off, len] = range(b.size, c.part);
        const p = pattern(len, c.s);
        m.cpu.write(b.va + off, p);
        b.shadow.set(p, off);
        if (b.state === 'synced') b.cpuWrote = true;
        return;
      }
      case 'cpuRead': {
        const b = this.buf(c.b);
        if (b.state !== 'dev') this.check(b);
        return;
      }
      case 'map': {
        const b = this.buf(c.b);
        if (b.state !== 'cpu') return;
        b.dir = c.dir;
        b.page = c.page;
        b.h = c.page ? dma_map_page(dev, m.virt_to_page(b.va), b.va % 4096, b.size, c.dir) : dma_map_single(dev, b.va, b.size, c.dir);
        expect(dma_mapping_error(dev, b.h)).toBe(0);
        b.state = 'dev';
        return;
      }
      case 'devRead': {
        const b = this.buf(c.b);
        if (b.state === 'dev' && b.dir !== DMA_FROM_DEVICE) expect(dev.dmaRead(b.h, b.size)).toEqual(b.shadow);
        return;
      }
      case 'devWrite': {
        const b = this.buf(c.b);
        if (b.state !== 'dev' || b.dir === DMA_TO_DEVICE) return;
        const [off, len] = b.dir === DMA_FROM_DEVICE ? [0, b.size] : range(b.size, c.part);
        const p = pattern(len, c.s);
        dev.dmaWrite(b.h + off, p);
        b.shadow.set(p, off);
        return;
      }
      case 'toCpu':
        this.takeBack(this.buf(c.b), c.unmap, c.part[0] + 1);
        return;
      case 'toDev':
        this.toDev(this.buf(c.b));
        return;
      case 'sg':
        this.sg(c);
        return;
      case 'nc':
        this.nc(c);
        return;
      case 'cohCpu':
      case 'cohDev':
        this.coherent(c);
    }
  }

  /** Coherent memory: a store by either side is seen by the other at once. */
  private coherent(c: Extract<Cmd, { k: 'cohCpu' | 'cohDev' }>): void {
    const [off, len] = range(this.coh.shadow.length, c.part);
    const p = pattern(len, c.s);
    if (c.k === 'cohCpu') this.m.cpu.write(this.coh.cpu + off, p);
    else this.dev.dmaWrite(this.coh.dma + off, p);
    this.coh.shadow.set(p, off);
    expect(this.dev.dmaRead(this.coh.dma + off, len)).toEqual(p);
    expect(this.m.cpu.read(this.coh.cpu + off, len)).toEqual(p);
  }

  /**
   * The CPU takes a buffer back (sync_for_cpu, or unmap). CPU writes of a sync window reach the
   * device side only through sync_for_device, and a FROM_DEVICE buffer comes back full of what
   * the device wrote (with swiotlb, the unmap copies the slot over the whole buffer).
   */
  private takeBack(b: Buf, unmap: boolean, s: number): void {
    const dev = this.dev;
    if (b.state === 'cpu') return;
    if (b.state === 'synced') {
      if (!unmap) return;
      if (b.cpuWrote && b.dir !== DMA_TO_DEVICE) this.toDev(b);
    }
    if (b.state === 'dev' && b.dir === DMA_FROM_DEVICE) {
      const p = pattern(b.size, s);
      dev.dmaWrite(b.h, p);
      b.shadow = p;
    }
    if (unmap) this.unmap(b);
    else {
      dma_sync_single_for_cpu(dev, b.h, b.size, b.dir);
      b.state = 'synced';
      b.cpuWrote = false;
    }
    this.check(b);
  }

  private toDev(b: Buf): void {
    if (b.state !== 'synced') return;
    dma_sync_single_for_device(this.dev, b.h, b.size, b.dir);
    b.state = 'dev';
    if (b.dir !== DMA_FROM_DEVICE) expect(this.dev.dmaRead(b.h, b.size)).toEqual(b.shadow);
  }

  private sg(c: Extract<Cmd, { k: 'sg' }>): void {
    const { m, dev } = this;
    const group = [...new Set(c.bs.map((i) => this.buf(i)))].filter((b) => b.state === 'cpu');
    if (group.length === 0) return;
    const n = group.length;
    const sgl = sg_init_table(n);
    group.forEach((b, i) => sg_set_buf(sgl[i]!, b.va, b.size));
    const mapped = dma_map_sg(dev, sgl, n, c.dir);
    expect(mapped).toBeGreaterThan(0);
    const handles = entryAddresses(sgl, n);
    const devSide = (s: number): void => group.forEach((b, i) => {
      const h = handles[i]!;
      if (c.dir !== DMA_FROM_DEVICE) expect(dev.dmaRead(h, b.size)).toEqual(b.shadow);
      if (c.dir !== DMA_TO_DEVICE) {
        b.shadow = pattern(b.size, s + i);
        dev.dmaWrite(h, b.shadow);
      }
    });
    // Traffic on the buffers the CPU owns while the group is with the device.
    for (const b of this.bufs) if (!group.includes(b) && b.state !== 'dev') this.check(b);
    devSide(c.s);
    if (c.sync) {
      dma_sync_sg_for_cpu(dev, sgl, n, c.dir);
      for (const b of group) this.check(b);
      group.forEach((b, i) => {
        b.shadow = pattern(b.size, c.s + 50 + i);
        m.cpu.write(b.va, b.shadow);
      });
      dma_sync_sg_for_device(dev, sgl, n, c.dir);
      devSide(c.s + 100);
    }
    dma_unmap_sg(dev, sgl, n, c.dir);
    for (const b of group) this.check(b);
  }

  /** A dma_alloc_noncoherent() buffer handed back and forth with syncs. */
  private nc(c: Extract<Cmd, { k: 'nc' }>): void {
    const { m, dev } = this;
    const n = 4096;
    const nc = dma_alloc_noncoherent(dev, n, DMA_BIDIRECTIONAL, GFP_KERNEL);
    expect(nc).not.toBeNull();
    const [off, len] = range(n, c.part);
    const p = pattern(len, c.s);
    m.cpu.write(nc!.cpu_addr + off, p);
    dma_sync_single_for_device(dev, nc!.dma_handle, n, DMA_BIDIRECTIONAL);
    expect(dev.dmaRead(nc!.dma_handle + off, len)).toEqual(p);
    const q = pattern(len, c.s + 1);
    dev.dmaWrite(nc!.dma_handle + off, q);
    dma_sync_single_for_cpu(dev, nc!.dma_handle, n, DMA_BIDIRECTIONAL);
    expect(m.cpu.read(nc!.cpu_addr + off, len)).toEqual(q);
  }

  finish(): void {
    for (const b of this.bufs) {
      this.takeBack(b, true, b.size);
      this.check(b);
    }
  }
}

async function boot(cfg: Config): Promise<{ m: Machine; dev: Device }> {
  const m = await createMachine({
    arch: cfg.arch,
    seed: cfg.seed,
    dataCheck: true,
    config: { ARCH_HAS_BATCHED_DMA_SYNC: cfg.batched, DMA_API_DEBUG: cfg.debug },
    cmdline: [cfg.debug ? 'dma_debug_entries=1024' : '', cfg.iommu === 'lazy' ? 'iommu.strict=0' : cfg.iommu === 'strict' ? 'iommu.strict=1' : ''].join(' '),
    load: { evictionPressure: cfg.eviction, speculation: cfg.speculation },
    ...(cfg.smallCache ? { cache: { size: 4096, ways: 4 } } : {}),
  });
  const dev = m.createDevice({
    name: '0000:08:00.0', driver: 'propdrv', coherent: cfg.arch === 'x86_64' ? true : cfg.coherent,
    ...(cfg.iommu === 'none' ? {} : { iommu: { untrusted: cfg.iommu === 'untrusted' } }),
  });
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(cfg.mask))).toBe(0);
  return { m, dev };
}

test('random correct driver programs: no data-checker report, no dma-debug error, every byte right', async () => {
  await fc.assert(
    fc.asyncProperty(config, fc.array(cmd, { minLength: 1, maxLength: 50 }), async (cfg, cmds) => {
      const { m, dev } = await boot(cfg);
      const drv = new Driver(m, dev, cfg);
      for (const c of cmds) drv.run(c);
      drv.finish();
      expect(m.dataCheck!.reports.map((r) => r.lines.join('\n'))).toEqual([]);
      expect(m.dmesg().filter((l) => l.startsWith('WARNING:') || l.startsWith('DMA-API: ') && !/preallocated|enabled by/.test(l))).toEqual([]);
    }),
    { seed: 7, numRuns: 120 },
  );
}, 120_000); // 120 machines: about 25 s alone, over 40 s on a machine shared by several test runs
