// A correct driver for the soak (test/check/soak-matrix.test.ts, `npm run soak`): it keeps a few
// DMA buffers of every kind alive at once (streaming single, page and sg mappings of kmalloc and
// page-allocator memory, coherent and non-coherent allocations, dma_pool blocks), hands each one
// back and forth between the CPU and the device by the DMA API's ownership rules, frees and
// reallocates memory, and compares every byte either side reads with a model. It counts the
// DMA API calls it made and the bytes it verified.
import {
  createMachine, DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_alloc_coherent, dma_alloc_noncoherent,
  dma_free_coherent, dma_free_noncoherent, dma_map_page, dma_map_sg, dma_map_single, dma_mapping_error, dma_pool_create,
  dma_pool_destroy, dma_pool_free, dma_pool_zalloc, dma_set_mask_and_coherent, dma_sync_sg_for_cpu, dma_sync_sg_for_device,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_page, dma_unmap_sg, dma_unmap_single, GFP_KERNEL,
  sg_dma_address, sg_dma_len, sg_init_table, sg_set_buf, type DmaPool, type Machine, type Page,
} from '../../src/index.js';
import { Xorshift32 } from '../../src/lib/random.js';
import type { Device } from '../../src/dma/device.js';
import type { Scatterlist } from '../../src/dma/scatterlist.js';
import { pattern, sameBytes } from './api-helpers.js';

export interface SoakConfig {
  readonly arch: 'arm64' | 'x86_64';
  /** The device snoops the CPU cache (always so on x86_64). */
  readonly coherent: boolean;
  /** 'off': the default pool, used only where the machine needs it; 'narrow': a 32-bit mask. */
  readonly swiotlb: 'off' | 'force' | 'narrow';
  readonly iommu: 'none' | 'strict' | 'lazy';
  readonly batched: boolean;
  /** Eviction pressure and speculative fills. */
  readonly load: boolean;
  readonly storeReordering: boolean;
}

export interface SoakResult {
  /** DMA API calls made. */
  calls: number;
  /** Bytes read back by the CPU or the device and compared with the model. */
  bytes: number;
  /** What went wrong: a byte that differed, a data-checker report, a dma-debug or kernel warning. */
  problems: string[];
}

type Dir = typeof DMA_BIDIRECTIONAL | typeof DMA_TO_DEVICE | typeof DMA_FROM_DEVICE;
const DIRS: readonly Dir[] = [DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE];
/** kmalloc sizes that share no cache line with another object. */
const SIZES = [128, 256, 384, 512, 1024, 2048, 4096, 8192];
const POOL_BLOCK = 512;

export function soakName(c: SoakConfig): string {
  const dev = c.arch === 'x86_64' ? 'x86_64' : c.coherent ? 'arm64-coherent' : 'arm64-noncoherent';
  return `${dev} swiotlb=${c.swiotlb} iommu=${c.iommu} batched=${c.batched} load=${c.load}${c.storeReordering ? ' storeReordering' : ''}`;
}

/** {arm64 non-coherent, arm64 coherent device, x86_64} × swiotlb × IOMMU × batched DSBs × load, plus storeReordering. */
export function soakMatrix(): SoakConfig[] {
  const out: SoakConfig[] = [];
  const devs: [SoakConfig['arch'], boolean][] = [['arm64', false], ['arm64', true], ['x86_64', true]];
  for (const [arch, coherent] of devs) {
    for (const swiotlb of ['off', 'force', 'narrow'] as const) {
      for (const iommu of ['none', 'strict', 'lazy'] as const) {
        for (const batched of [false, true]) {
          for (const load of [false, true]) out.push({ arch, coherent, swiotlb, iommu, batched, load, storeReordering: false });
        }
      }
      for (const batched of [false, true]) out.push({ arch, coherent, swiotlb, iommu: 'none', batched, load: true, storeReordering: true });
    }
  }
  return out;
}

/** Lines of the log that a correct driver must never cause. */
function isComplaint(line: string): boolean {
  return line.startsWith('WARNING:') || line.startsWith('BUG:') || /\bDMA-API: .*(device driver|failed|leak|unmapped|freed)/.test(line)
    || /swiotlb buffer is full|\bfault\b|Unable to handle/.test(line);
}

interface Live {
  /** One step of this buffer's life; false when it is over (freed). */
  step(): boolean;
  /** Runs its life to the end. */
  finish(): void;
}

export class SoakDriver {
  readonly result: SoakResult = { calls: 0, bytes: 0, problems: [] };
  private readonly rng: Xorshift32;
  private readonly live: Live[] = [];
  private pool: DmaPool | null = null;

  constructor(readonly m: Machine, readonly dev: Device, seed: number) {
    this.rng = new Xorshift32(seed);
  }

  static async boot(c: SoakConfig, seed: number): Promise<SoakDriver> {
    const iommuCmd = c.iommu === 'strict' ? 'iommu.strict=1' : c.iommu === 'lazy' ? 'iommu.strict=0' : '';
    const m = await createMachine({
      arch: c.arch,
      seed,
      dataCheck: true,
      config: { DMA_API_DEBUG: true, ARCH_HAS_BATCHED_DMA_SYNC: c.batched },
      cmdline: [c.swiotlb === 'force' ? 'swiotlb=force' : '', iommuCmd].filter((s) => s !== '').join(' '),
      load: c.load ? { evictionPressure: 0.02, speculation: 0.02, storeReordering: c.storeReordering ? 0.5 : 0 } : {},
    });
    const dev = m.createDevice({ name: '0000:03:00.0', driver: 'soakdrv', coherent: c.coherent, ...(c.iommu === 'none' ? {} : { iommu: true }) });
    if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(c.swiotlb === 'narrow' ? 32 : 64)) !== 0) throw new Error('dma_set_mask_and_coherent failed');
    return new SoakDriver(m, dev, seed);
  }

  random(n: number): number {
    return this.rng.below(n);
  }

  private pick<T>(a: readonly T[]): T {
    return a[this.random(a.length)] as T;
  }

  /** One API call (counted). */
  call<T>(v: T): T {
    this.result.calls++;
    return v;
  }

  /** Compares what was read with the model. */
  verify(what: string, got: Uint8Array, want: Uint8Array): void {
    this.result.bytes += want.length;
    if (!sameBytes(got, want)) {
      let i = 0;
      while (got[i] === want[i]) i++;
      this.result.problems.push(`${what}: byte ${i} of ${want.length} is 0x${(got[i] ?? 0).toString(16)}, want 0x${(want[i] ?? 0).toString(16)}`);
    }
  }

  /** A random [off, off + len) inside n bytes. */
  part(n: number): [number, number] {
    const off = this.random(n);
    return [off, 1 + this.random(n - off)];
  }

  /** Runs `steps` steps: start a buffer's life, or take one of the live ones a step further. */
  run(steps: number): void {
    for (let i = 0; i < steps && this.result.problems.length === 0; i++) {
      if (this.live.length < 6 && this.random(3) === 0) this.start();
      else if (this.live.length > 0) {
        const k = this.random(this.live.length);
        if (!(this.live[k] as Live).step()) this.live.splice(k, 1);
      }
    }
  }

  private start(): void {
    const kind = this.random(7);
    const dir = this.pick(DIRS);
    const b = kind <= 1 ? this.single(dir, kind === 1) : kind === 2 ? this.sg(dir) : kind === 3 ? this.coherent()
      : kind === 4 ? this.noncoherent() : kind === 5 ? this.poolBlock() : this.single(dir, false);
    if (b !== null) this.live.push(b);
  }

  /** Ends every life, checks the log and the checker, unbinds the driver (dma-debug's leak check). */
  finish(): SoakResult {
    for (const b of this.live) b.finish();
    this.live.length = 0;
    if (this.pool !== null) this.call(dma_pool_destroy(this.pool));
    this.m.cpu.mb();
    this.m.unbind(this.dev);
    const slots = this.m.stats().swiotlbSlotsUsed;
    if (slots !== 0) this.result.problems.push(`${slots} swiotlb slots still in use after every buffer was released`);
    for (const r of this.m.dataCheck!.reports) this.result.problems.push(r.lines.join('\n'));
    for (const l of this.m.dmesg()) if (isComplaint(l)) this.result.problems.push(l);
    return this.result;
  }

  // ---- streaming mappings -------------------------------------------------------------------------

  /** dma_map_single() of kmalloc memory, or dma_map_page() of a page-allocator block. */
  private single(dir: Dir, page: boolean): Live | null {
    const { m, dev } = this;
    const size = this.pick(SIZES);
    let pg: Page | null = null;
    const off = page ? this.random(2) * 128 : 0;
    const order = Math.ceil(Math.log2(Math.ceil((off + size) / 4096)));
    let cpu: number;
    if (page) {
      pg = m.alloc_pages(GFP_KERNEL, order);
      if (pg === null) return null;
      cpu = m.page_address(pg) + off;
    } else {
      cpu = m.kmalloc(size, GFP_KERNEL);
      if (cpu === 0) return null;
    }
    const model = pattern(size, this.random(1e9));
    m.cpu.write(cpu, model);
    const h = this.call(pg === null ? dma_map_single(dev, cpu, size, dir) : dma_map_page(dev, pg, off, size, dir));
    const release = (): void => {
      if (pg === null) m.kfree(cpu);
      else m.__free_pages(pg, order);
    };
    if (this.call(dma_mapping_error(dev, h)) !== 0) {
      this.result.problems.push(`mapping ${size} bytes failed`);
      release();
      return null;
    }
    const unmap = (): void => {
      this.call(pg === null ? dma_unmap_single(dev, h, size, dir) : dma_unmap_page(dev, h, size, dir));
    };
    return this.streaming({
      dir, size, model,
      devRead: () => dev.dmaRead(h, size),
      devWrite: (o, bytes) => dev.dmaWrite(h + o, bytes),
      toCpu: () => this.call(dma_sync_single_for_cpu(dev, h, size, dir)),
      toDev: () => this.call(dma_sync_single_for_device(dev, h, size, dir)),
      cpuRead: () => m.cpu.read(cpu, size),
      cpuWrite: (o, bytes) => m.cpu.write(cpu + o, bytes),
      unmap, release,
    });
  }

  /** dma_map_sg() of up to four kmalloc buffers. */
  private sg(dir: Dir): Live | null {
    const { m, dev } = this;
    const n = 1 + this.random(4);
    const sizes = Array.from({ length: n }, () => this.pick(SIZES.slice(0, 6)));
    const bufs = sizes.map((s) => m.kmalloc(s, GFP_KERNEL));
    const size = sizes.reduce((a, b) => a + b, 0);
    const model = pattern(size, this.random(1e9));
    const sgl = sg_init_table(n);
    let at = 0;
    bufs.forEach((p, i) => {
      const s = sizes[i] as number;
      m.cpu.write(p, model.subarray(at, at + s));
      sg_set_buf(sgl[i] as Scatterlist, p, s);
      at += s;
    });
    const release = (): void => bufs.forEach((p) => m.kfree(p));
    const mapped = this.call(dma_map_sg(dev, sgl, n, dir));
    if (mapped === 0) {
      this.result.problems.push(`dma_map_sg of ${n} entries failed`);
      release();
      return null;
    }
    // Where each byte of the concatenated entries is on the bus: segments hold whole entries back to back.
    const spans: [number, number, number][] = [];
    let seg = 0;
    let used = 0;
    at = 0;
    for (let i = 0; i < n; i++) {
      if (used === sg_dma_len(sgl[seg] as Scatterlist)) { seg++; used = 0; }
      spans.push([sg_dma_address(sgl[seg] as Scatterlist) + used, at, sizes[i] as number]);
      used += sizes[i] as number;
      at += sizes[i] as number;
    }
    const cpuSpans = bufs.map((p, i) => [p, spans[i]![1], sizes[i] as number] as const);
    return this.streaming({
      dir, size, model,
      devRead: () => {
        const out = new Uint8Array(size);
        for (const [d, o, s] of spans) out.set(dev.dmaRead(d, s), o);
        return out;
      },
      devWrite: (o, bytes) => {
        for (const [d, so, s] of spans) {
          const lo = Math.max(o, so);
          const hi = Math.min(o + bytes.length, so + s);
          if (lo < hi) dev.dmaWrite(d + (lo - so), bytes.subarray(lo - o, hi - o));
        }
      },
      toCpu: () => this.call(dma_sync_sg_for_cpu(dev, sgl, n, dir)),
      toDev: () => this.call(dma_sync_sg_for_device(dev, sgl, n, dir)),
      cpuRead: () => {
        const out = new Uint8Array(size);
        for (const [p, o, s] of cpuSpans) out.set(m.cpu.read(p, s), o);
        return out;
      },
      cpuWrite: (o, bytes) => {
        for (const [p, so, s] of cpuSpans) {
          const lo = Math.max(o, so);
          const hi = Math.min(o + bytes.length, so + s);
          if (lo < hi) m.cpu.write(p + (lo - so), bytes.subarray(lo - o, hi - o));
        }
      },
      unmap: () => this.call(dma_unmap_sg(dev, sgl, n, dir)),
      release,
    });
  }

  /**
   * The life of a streaming mapping: while the device owns it, the device reads it (TO_DEVICE,
   * BIDIRECTIONAL) or writes it (FROM_DEVICE, BIDIRECTIONAL); a sync for the CPU lets the CPU
   * read it and, unless the device alone fills it, write it; a sync for the device hands it back.
   */
  private streaming(s: {
    dir: Dir; size: number; model: Uint8Array;
    devRead(): Uint8Array; devWrite(off: number, bytes: Uint8Array): void; toCpu(): void; toDev(): void;
    cpuRead(): Uint8Array; cpuWrite(off: number, bytes: Uint8Array): void; unmap(): void; release(): void;
  }): Live {
    let cpuOwns = false;
    let cpuWrote = false;
    const end = (): void => {
      // The unmap's sync for the CPU invalidates (arm64 dcache_inval_poc): what the CPU wrote
      // since its sync_for_cpu must be handed to the device first, or it is discarded.
      if (cpuWrote) s.toDev();
      s.unmap();
      this.verify(`CPU read after unmap (${s.dir})`, s.cpuRead(), s.model);
      s.release();
    };
    const step = (): boolean => {
      const r = this.random(8);
      if (cpuOwns) {
        if (r < 2) this.verify(`CPU read after sync_for_cpu (${s.dir})`, s.cpuRead(), s.model);
        else if (r < 4 && s.dir !== DMA_FROM_DEVICE) {
          const [o, n] = this.part(s.size);
          const bytes = pattern(n, this.random(1e9));
          s.cpuWrite(o, bytes);
          s.model.set(bytes, o);
          cpuWrote = true;
        } else if (r < 7) {
          s.toDev();
          cpuOwns = false;
          cpuWrote = false;
        } else {
          end();
          return false;
        }
        return true;
      }
      if (r < 2 && s.dir !== DMA_FROM_DEVICE) this.verify(`device read (${s.dir})`, s.devRead(), s.model);
      else if (r < 5 && s.dir !== DMA_TO_DEVICE) {
        const [o, n] = this.part(s.size);
        const bytes = pattern(n, this.random(1e9));
        s.devWrite(o, bytes);
        s.model.set(bytes, o);
      } else if (r < 7) {
        s.toCpu();
        cpuOwns = true;
      } else {
        end();
        return false;
      }
      return true;
    };
    return { step, finish: end };
  }

  // ---- allocations the CPU and the device share -----------------------------------------------------

  /**
   * The life of shared memory: CPU stores are followed by a write barrier before the device
   * looks (as a driver orders them before ringing a doorbell); syncs, where the memory needs
   * them, hand it over.
   */
  private shared(s: {
    size: number; model: Uint8Array; cpu: number; dma: number; toDev?(): void; toCpu?(): void; free(): void;
  }): Live {
    const { m, dev } = this;
    let cpuOwns = true;
    const toCpu = (): void => {
      if (!cpuOwns) s.toCpu?.();
      cpuOwns = true;
    };
    const toDev = (): void => {
      if (cpuOwns) s.toDev?.();
      cpuOwns = false;
    };
    const end = (): void => {
      toCpu();
      this.verify('CPU read of shared memory at its end', m.cpu.read(s.cpu, s.size), s.model);
      s.free();
    };
    const step = (): boolean => {
      const r = this.random(8);
      const [o, n] = this.part(s.size);
      const bytes = pattern(n, this.random(1e9));
      if (r < 2) {
        toCpu();
        m.cpu.write(s.cpu + o, bytes);
        m.cpu.wmb();
        s.model.set(bytes, o);
        toDev();
        this.verify('device read of shared memory', dev.dmaRead(s.dma, s.size), s.model);
      } else if (r < 4) {
        toDev();
        dev.dmaWrite(s.dma + o, bytes);
        s.model.set(bytes, o);
        toCpu();
        this.verify('CPU read of shared memory', m.cpu.read(s.cpu, s.size), s.model);
      } else if (r < 7) {
        // A CPU store (uncached, for coherent memory on a non-coherent device) over what the device wrote.
        toDev();
        dev.dmaWrite(s.dma + o, bytes);
        toCpu();
        const mine = pattern(n, this.random(1e9));
        m.cpu.write(s.cpu + o, mine);
        m.cpu.wmb();
        s.model.set(mine, o);
      } else {
        end();
        return false;
      }
      return true;
    };
    return { step, finish: end };
  }

  private coherent(): Live | null {
    const { m, dev } = this;
    const size = this.pick([256, 4096, 8192, 3 * 4096]);
    const b = this.call(dma_alloc_coherent(dev, size, GFP_KERNEL));
    if (b === null) {
      this.result.problems.push(`dma_alloc_coherent(${size}) failed`);
      return null;
    }
    const model = new Uint8Array(size);
    this.verify('dma_alloc_coherent() memory is zeroed', m.cpu.read(b.cpu_addr, size), model);
    return this.shared({ size, model, cpu: b.cpu_addr, dma: b.dma_handle, free: () => this.call(dma_free_coherent(dev, size, b.cpu_addr, b.dma_handle)) });
  }

  private noncoherent(): Live | null {
    const { m, dev } = this;
    const size = this.pick([4096, 8192]);
    const b = this.call(dma_alloc_noncoherent(dev, size, DMA_BIDIRECTIONAL, GFP_KERNEL));
    if (b === null) {
      this.result.problems.push(`dma_alloc_noncoherent(${size}) failed`);
      return null;
    }
    const model = m.cpu.read(b.cpu_addr, size);
    return this.shared({
      size, model, cpu: b.cpu_addr, dma: b.dma_handle,
      toDev: () => this.call(dma_sync_single_for_device(dev, b.dma_handle, size, DMA_BIDIRECTIONAL)),
      toCpu: () => this.call(dma_sync_single_for_cpu(dev, b.dma_handle, size, DMA_BIDIRECTIONAL)),
      free: () => this.call(dma_free_noncoherent(dev, size, b.cpu_addr, b.dma_handle, DMA_BIDIRECTIONAL)),
    });
  }

  private poolBlock(): Live | null {
    const { m, dev } = this;
    this.pool ??= this.call(dma_pool_create('soak', dev, POOL_BLOCK, 64, 0));
    const pool = this.pool!;
    const b = this.call(dma_pool_zalloc(pool, GFP_KERNEL));
    if (b === null) {
      this.result.problems.push('dma_pool_zalloc failed');
      return null;
    }
    const model = new Uint8Array(POOL_BLOCK);
    this.verify('dma_pool_zalloc() block is zeroed', m.cpu.read(b.vaddr, POOL_BLOCK), model);
    return this.shared({ size: POOL_BLOCK, model, cpu: b.vaddr, dma: b.dma, free: () => this.call(dma_pool_free(pool, b.vaddr, b.dma)) });
  }
}
