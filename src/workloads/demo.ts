// `dmasim demo`: the four ways a write-back cache breaks DMA on a non-coherent machine, each
// next to the maintenance that fixes it (on a coherent machine, `--arch x86_64`, none breaks).

import { createMachine, type Machine } from '../machine.js';
import { GFP_KERNEL } from '../mm/gfp.js';
import { checkDemoOptions } from './options.js';

export interface DemoOptions {
  arch: 'arm64' | 'x86_64';
  seed: number;
}

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function scenario(out: string[], title: string, lines: string[]): void {
  out.push(`\n== ${title}`);
  for (const l of lines) out.push(`   ${l}`);
}

/** A 128-byte kmalloc buffer (ARCH_DMA_MINALIGN-sized) and its physical address. */
function buffer(m: Machine): { va: number; pa: number } {
  const va = m.kmalloc(128, GFP_KERNEL);
  return { va, pa: m.virt_to_phys(va) };
}

export async function runDemo(options: DemoOptions): Promise<string[]> {
  const opts = checkDemoOptions('runDemo', options);
  const m = await createMachine({ arch: opts.arch, seed: opts.seed });
  const dev = m.createDevice({ name: '0000:01:00.0', driver: 'demo_nic' });
  const out = [`dmasim demo on ${opts.arch}: device ${dev.name} is ${dev.dma_coherent ? 'DMA-coherent' : 'NOT DMA-coherent'}; ` +
    `cache ${m.cache.lineSize}-byte lines, seed ${opts.seed}`];

  const tx = buffer(m);
  m.cpu.write(tx.va, [0xde, 0xad, 0xbe, 0xef]);
  const before = dev.dmaRead(tx.pa, 4);
  m.cache.clean(tx.pa, 4);
  scenario(out, 'TX: the CPU fills a buffer, the device reads it', [
    `device reads before clean: ${hex(before)}${dev.dma_coherent ? '' : '   <- stale: the data is still in a dirty cache line'}`,
    `device reads after clean:  ${hex(dev.dmaRead(tx.pa, 4))}   (dma_map_single(DMA_TO_DEVICE) cleans to the PoC)`,
  ]);

  const rx = buffer(m);
  m.cpu.readl(rx.va);
  dev.dmaWrite(rx.pa, [0x12, 0x34, 0x56, 0x78]);
  const stale = m.cpu.read(rx.va, 4);
  m.cache.invalidate(rx.pa, 128);
  scenario(out, 'RX: the device writes a buffer the CPU had cached', [
    `CPU reads before invalidate: ${hex(stale)}${dev.dma_coherent ? '' : '   <- stale cached copy'}`,
    `CPU reads after invalidate:  ${hex(m.cpu.read(rx.va, 4))}   (dma_sync_single_for_cpu(DMA_FROM_DEVICE) invalidates)`,
  ]);

  const shared = buffer(m);
  m.cpu.write(shared.va, new Uint8Array(32).fill(0xc0));
  dev.dmaWrite(shared.pa + 32, new Uint8Array(32).fill(0xd0));
  m.cache.cleanInvalidate(shared.pa, 64); // the line is evicted or cleaned sooner or later
  scenario(out, 'Shared cache line: a CPU field and a DMA buffer in the same 64 bytes', [
    `device wrote d0 at +32; after the dirty line is written back RAM holds: ${hex(dev.dmaRead(shared.pa + 32, 4))}` +
      `${dev.dma_coherent ? '' : '   <- the device\'s data is gone'}`,
    'fix: keep DMA buffers on their own cache lines (ARCH_DMA_MINALIGN, kmalloc alignment)',
  ]);

  const spec = buffer(m);
  m.cache.invalidate(spec.pa, 128); // dma_map_single(DMA_FROM_DEVICE) invalidates before the DMA
  m.cpu.readl(spec.va); // the prefetcher pulls the line in through the cacheable linear map
  dev.dmaWrite(spec.pa, [0x5a, 0x5a, 0x5a, 0x5a]);
  const early = m.cpu.read(spec.va, 4);
  m.cache.invalidate(spec.pa, 128);
  scenario(out, 'Speculative fill: the line comes back while the device owns the buffer', [
    `CPU reads after DMA, invalidated only before it: ${hex(early)}${dev.dma_coherent ? '' : '   <- stale: filled speculatively during the DMA'}`,
    `CPU reads after invalidating again:              ${hex(m.cpu.read(spec.va, 4))}   (arm64 invalidates in dma_unmap/sync_for_cpu too, arch_sync_dma_for_cpu)`,
  ]);

  const s = m.stats();
  out.push(`\nstats: ${s.cacheMaintenanceOps} cache maintenance ops, ${s.cacheLinesCleaned} lines cleaned, ` +
    `${s.cacheLinesInvalidated} invalidated, ${s.dirtyLinesWrittenBack} dirty write-backs, ${s.snoops} snoops`);
  return out;
}
