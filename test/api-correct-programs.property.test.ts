// Property: a *correct* driver never loses or corrupts a byte, whatever the platform. The rules
// it obeys are the DMA API's (Documentation/core-api/dma-api.rst, dma-api-howto.rst; code in
// kernel/dma/mapping.c, kernel/dma/direct.[ch], kernel/dma/swiotlb.c and the arm64 hooks of
// arch/arm64/mm/dma-mapping.c): the CPU touches a streaming buffer only while it owns it
// (before map, after unmap, or between sync_for_cpu and sync_for_device); the device reads
// only TO_DEVICE/BIDIRECTIONAL mappings and writes only FROM_DEVICE/BIDIRECTIONAL ones; a
// FROM_DEVICE buffer is handed back to the CPU only after the device filled it; CPU writes made
// during a sync_for_cpu window reach the device (or survive unmap) only through
// sync_for_device; buffers come from kmalloc in sizes that never share a cache line.
// Random programs of that kind run on random machines: arm64 or x86_64, coherent or not,
// batched DSBs or not, eviction pressure and speculative fills, a 4 KiB or the default cache,
// a 64-bit or a 32-bit mask (the latter bounces buffers above 4 GiB through swiotlb).
import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_alloc_coherent,
  dma_map_sg, dma_map_single, dma_mapping_error, dma_set_mask_and_coherent, dma_sync_sg_for_cpu,
  dma_sync_sg_for_device, dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_sg,
  dma_unmap_single, GFP_KERNEL, sg_dma_address, sg_init_table, sg_set_buf,
} from '../src/index.js';
import type { Device } from '../src/device.js';
import type { Machine } from '../src/machine.js';
import { pattern } from './api-helpers.js';

type Dir = typeof DMA_BIDIRECTIONAL | typeof DMA_TO_DEVICE | typeof DMA_FROM_DEVICE;

interface Config {
  arch: 'arm64' | 'x86_64';
  coherent: boolean;
  batched: boolean;
  eviction: number;
  speculation: number;
  smallCache: boolean;
  mask: 32 | 64;
  seed: number;
  sizes: number[];
  cohSize: number;
}

type Part = [number, number];
type Cmd =
  | { k: 'cpuWrite'; b: number; s: number; part: Part }
  | { k: 'cpuRead'; b: number }
  | { k: 'map'; b: number; dir: Dir }
  | { k: 'devRead'; b: number }
  | { k: 'devWrite'; b: number; s: number; part: Part }
  | { k: 'toCpu'; b: number; unmap: boolean }
  | { k: 'toDev'; b: number }
  | { k: 'recycle'; b: number; s: number; part: Part }
  | { k: 'sg'; bs: number[]; dir: Dir; s: number; sync: boolean; reuse: boolean }
  | { k: 'cohCpu'; s: number; part: Part }
  | { k: 'cohDev'; s: number; part: Part };

/** kmalloc sizes that never share a cache line: multiples of 128, or 256 and more. */
const size = fc.oneof(
  fc.integer({ min: 1, max: 16 }).map((k) => k * 128),
  fc.integer({ min: 256, max: 4096 }),
  fc.constantFrom(8192, 12288),
);
const dir = fc.constantFrom<Dir>(DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE);
/** Buffer indices (taken modulo the pool size), biased towards the first two. */
const buf = fc.oneof(fc.nat(1), fc.nat(7));
const part: fc.Arbitrary<Part> = fc.tuple(fc.nat(), fc.nat());
const seed = fc.integer({ min: 1, max: 1e9 });

/** Weighted towards the ownership transfers, where the bugs would be. */
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('cpuWrite' as const), b: buf, s: seed, part }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cpuRead' as const), b: buf }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('map' as const), b: buf, dir }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('devRead' as const), b: buf }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('devWrite' as const), b: buf, s: seed, part }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('toCpu' as const), b: buf, unmap: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('toDev' as const), b: buf }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('recycle' as const), b: buf, s: seed, part }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('sg' as const), bs: fc.array(buf, { minLength: 1, maxLength: 4 }), dir, s: seed, sync: fc.boolean(), reuse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cohCpu' as const), s: seed, part }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cohDev' as const), s: seed, part }) },
);

const config: fc.Arbitrary<Config> = fc.record({
  arch: fc.constantFrom<'arm64' | 'x86_64'>('arm64', 'x86_64'),
  coherent: fc.boolean(),
  batched: fc.boolean(),
  eviction: fc.constantFrom(0, 0.2),
  speculation: fc.constantFrom(0, 0.2),
  smallCache: fc.boolean(),
  mask: fc.constantFrom<32 | 64>(32, 64),
  seed: fc.integer({ min: 0, max: 0xffff_ffff }),
  sizes: fc.array(size, { minLength: 2, maxLength: 6 }),
  cohSize: fc.constantFrom(4096, 8192),
});

/** [offset, length) inside a buffer of n bytes, at least one byte. */
function range(n: number, [a, b]: Part): [number, number] {
  const off = a % n;
  return [off, 1 + (b % (n - off))];
}

interface Buf {
  va: number;
  size: number;
  /** What the buffer must hold, as its current owner sees it. */
  shadow: Uint8Array;
  state: 'cpu' | 'dev' | 'synced';
  dir: Dir;
  h: number;
  /** FROM_DEVICE: the device filled the buffer since it last got it. */
  devWrote: boolean;
  /** The CPU wrote during the current sync_for_cpu window. */
  cpuWrote: boolean;
}

class Driver {
  readonly bufs: Buf[] = [];
  coh = { cpu: 0, dma: 0, shadow: new Uint8Array(0) };
  private seq = 1;

  constructor(readonly m: Machine, readonly dev: Device, cfg: Config) {
    for (const [i, n] of cfg.sizes.entries()) {
      const va = m.kmalloc(n, GFP_KERNEL);
      expect(va).toBeGreaterThan(16);
      const shadow = pattern(n, 1000 + i);
      m.cpu.write(va, shadow);
      this.bufs.push({ va, size: n, shadow, state: 'cpu', dir: DMA_BIDIRECTIONAL, h: 0, devWrote: false, cpuWrote: false });
    }
    const c = dma_alloc_coherent(dev, cfg.cohSize, GFP_KERNEL);
    expect(c).not.toBeNull();
    this.coh = { cpu: c!.cpu_addr, dma: c!.dma_handle, shadow: new Uint8Array(cfg.cohSize) };
  }

  private buf(i: number): Buf {
    return this.bufs[i % this.bufs.length] as Buf;
  }

  private cpuCheck(b: Buf): void {
    expect(this.m.cpu.read(b.va, b.size)).toEqual(b.shadow);
  }

  /** The device fills a FROM_DEVICE (or any writable) mapping entirely. */
  private devFill(b: Buf, s: number, h = b.h): void {
    const p = pattern(b.size, s);
    this.dev.dmaWrite(h, p);
    b.shadow = p;
    b.devWrote = true;
  }

  private toCpu(b: Buf, unmap: boolean): void {
    if (b.state === 'synced') {
      if (!unmap) return;
      if (b.cpuWrote && b.dir !== DMA_TO_DEVICE) this.toDev(b); // else the unmap would invalidate the CPU's writes
    }
    if (b.state === 'dev' && b.dir === DMA_FROM_DEVICE && !b.devWrote) this.devFill(b, this.seq++);
    if (unmap) {
      dma_unmap_single(this.dev, b.h, b.size, b.dir);
      b.state = 'cpu';
    } else {
      dma_sync_single_for_cpu(this.dev, b.h, b.size, b.dir);
      b.state = 'synced';
      b.cpuWrote = false;
    }
    this.cpuCheck(b); // the driver looks at what it took back
  }

  private toDev(b: Buf): void {
    if (b.state !== 'synced') return;
    dma_sync_single_for_device(this.dev, b.h, b.size, b.dir);
    b.state = 'dev';
    b.devWrote = false;
    this.devCheck(b);
  }

  /** A device that may read the mapping reads all of it. */
  private devCheck(b: Buf): void {
    if (b.dir !== DMA_FROM_DEVICE) expect(this.dev.dmaRead(b.h, b.size)).toEqual(b.shadow);
  }

  /** CPU accesses to every buffer the CPU owns: traffic while others are with the device. */
  private noise(s: number, except: Set<Buf>): void {
    for (const b of this.bufs) {
      if (except.has(b) || b.state === 'dev') continue;
      this.cpuCheck(b);
      const [off, len] = range(b.size, [s, s >>> 3]);
      const p = pattern(len, s ^ b.va);
      this.m.cpu.write(b.va + off, p);
      b.shadow.set(p, off);
      if (b.state === 'synced') b.cpuWrote = true;
    }
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
        if (b.state !== 'dev') this.cpuCheck(b);
        return;
      }
      case 'map': {
        const b = this.buf(c.b);
        if (b.state !== 'cpu') return;
        b.dir = c.dir;
        b.h = dma_map_single(dev, b.va, b.size, c.dir);
        expect(dma_mapping_error(dev, b.h)).toBe(0);
        b.state = 'dev';
        b.devWrote = false;
        this.devCheck(b);
        return;
      }
      case 'devRead': {
        const b = this.buf(c.b);
        if (b.state === 'dev') this.devCheck(b);
        return;
      }
      case 'devWrite': {
        const b = this.buf(c.b);
        if (b.state !== 'dev' || b.dir === DMA_TO_DEVICE) return;
        if (b.dir === DMA_FROM_DEVICE) {
          this.devFill(b, c.s);
        } else {
          const [off, len] = range(b.size, c.part);
          const p = pattern(len, c.s);
          dev.dmaWrite(b.h + off, p);
          b.shadow.set(p, off);
        }
        return;
      }
      case 'toCpu': {
        const b = this.buf(c.b);
        if (b.state !== 'cpu') this.toCpu(b, c.unmap);
        return;
      }
      case 'toDev':
        this.toDev(this.buf(c.b));
        return;
      case 'recycle':
        this.recycle(this.buf(c.b), c.s, c.part);
        return;
      case 'sg':
        this.sg(c);
        return;
      case 'cohCpu': {
        const [off, len] = range(this.coh.shadow.length, c.part);
        const p = pattern(len, c.s);
        m.cpu.write(this.coh.cpu + off, p);
        this.coh.shadow.set(p, off);
        expect(dev.dmaRead(this.coh.dma + off, len)).toEqual(p);
        return;
      }
      case 'cohDev': {
        const [off, len] = range(this.coh.shadow.length, c.part);
        const p = pattern(len, c.s);
        dev.dmaWrite(this.coh.dma + off, p);
        this.coh.shadow.set(p, off);
        expect(m.cpu.read(this.coh.cpu + off, len)).toEqual(p);
        return;
      }
    }
  }

  /**
   * The article's reuse cycle on a mapped buffer: the CPU takes it (sync_for_cpu), refills part
   * of it, hands it back (sync_for_device), the device does its side, the CPU takes it again.
   */
  private recycle(b: Buf, s: number, p: Part): void {
    if (b.state === 'cpu') return;
    if (b.state === 'dev') this.toCpu(b, false);
    const [off, len] = range(b.size, p);
    const data = pattern(len, s);
    this.m.cpu.write(b.va + off, data);
    b.shadow.set(data, off);
    b.cpuWrote = true;
    this.toDev(b);
    if (b.dir !== DMA_TO_DEVICE) this.devFill(b, s + 1);
    this.toCpu(b, false);
  }

  /** One scatter-gather transfer over the CPU-owned buffers named, with traffic in between. */
  private sg(c: Extract<Cmd, { k: 'sg' }>): void {
    const { m, dev } = this;
    const group = [...new Set(c.bs.map((i) => this.buf(i)))].filter((b) => b.state === 'cpu');
    if (group.length === 0) return;
    const n = group.length;
    const sgl = sg_init_table(n);
    group.forEach((b, i) => sg_set_buf(sgl[i]!, b.va, b.size));
    expect(dma_map_sg(dev, sgl, n, c.dir)).toBe(n);
    for (const b of group) b.state = 'dev'; // (kept out of noise)
    const inGroup = new Set(group);
    const devSide = (s: number): void => {
      group.forEach((b, i) => {
        const h = sg_dma_address(sgl[i]!);
        if (c.dir !== DMA_FROM_DEVICE) expect(dev.dmaRead(h, b.size)).toEqual(b.shadow);
        if (c.dir !== DMA_TO_DEVICE) this.devFill(b, s + i, h);
      });
    };
    this.noise(c.s, inGroup);
    devSide(c.s);
    this.noise(c.s + 1, inGroup);
    if (c.sync) {
      dma_sync_sg_for_cpu(dev, sgl, n, c.dir);
      for (const b of group) this.cpuCheck(b);
      if (c.reuse) {
        group.forEach((b, i) => {
          b.shadow = pattern(b.size, c.s + 100 + i);
          m.cpu.write(b.va, b.shadow);
        });
        dma_sync_sg_for_device(dev, sgl, n, c.dir);
        devSide(c.s + 200);
      }
    }
    dma_unmap_sg(dev, sgl, n, c.dir);
    for (const b of group) {
      b.state = 'cpu';
      this.cpuCheck(b);
    }
  }

  /** Every buffer back to the CPU, then every byte compared. */
  finish(): void {
    for (const b of this.bufs) {
      if (b.state !== 'cpu') this.toCpu(b, true);
      expect(b.state).toBe('cpu');
      this.cpuCheck(b);
    }
    expect(this.m.cpu.read(this.coh.cpu, this.coh.shadow.length)).toEqual(this.coh.shadow);
    expect(this.dev.dmaRead(this.coh.dma, this.coh.shadow.length)).toEqual(this.coh.shadow);
  }
}

async function boot(cfg: Config): Promise<{ m: Machine; dev: Device }> {
  const m = await createMachine({
    arch: cfg.arch,
    seed: cfg.seed,
    config: { ARCH_HAS_BATCHED_DMA_SYNC: cfg.batched },
    load: { evictionPressure: cfg.eviction, speculation: cfg.speculation },
    ...(cfg.smallCache ? { cache: { size: 4096, ways: 4 } } : {}),
  });
  const coherent = cfg.arch === 'x86_64' ? true : cfg.coherent;
  const dev = m.createDevice({ name: '0000:08:00.0', driver: 'propdrv', coherent });
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(cfg.mask))).toBe(0);
  return { m, dev };
}

test('random correct driver programs never lose or corrupt a byte, on any configuration', async () => {
  await fc.assert(
    fc.asyncProperty(config, fc.array(cmd, { minLength: 1, maxLength: 60 }), async (cfg, cmds) => {
      const { m, dev } = await boot(cfg);
      const drv = new Driver(m, dev, cfg);
      for (const c of cmds) drv.run(c);
      drv.finish();
      expect(m.dcache.pendingOps).toBe(0);
      expect(m.dmesg().filter((l) => l.startsWith('WARNING:'))).toEqual([]);
    }),
    { seed: 42, numRuns: 60 },
  );
});
