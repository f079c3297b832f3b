// Rule (KERNEL.md §9 item 3; Documentation/core-api/dma-api-howto.rst "DMA and cache
// coherence"): a DMA_FROM_DEVICE buffer embedded in a struct must not share a cache line with
// fields the CPU writes while the device owns the buffer. On unmap, arch_sync_dma_for_cpu() ->
// dcache_inval_poc (arch/arm64/mm/cache.S, via arch/arm64/mm/dma-mapping.c) *cleans and
// invalidates* a partial edge line (DC CIVAC), so the CPU's dirty copy of that line, holding
// stale bytes of the buffer, is written over what the device wrote. (The kmalloc-bounce rule,
// dma_kmalloc_needs_bounce() in include/linux/dma-map-ops.h, looks only at the size: a 64-byte
// buffer is a whole number of lines and is not bounced.) Aligning the buffer to
// ARCH_DMA_MINALIGN (128, arch/arm64/include/asm/cache.h) and padding it to a multiple of it
// gives the buffer lines of its own.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_FROM_DEVICE, dma_map_single, dma_mapping_error, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { delta, pattern, probe64 } from '../support/api-helpers.js';

const ARCH_DMA_MINALIGN = 128;
const FIELD = 32;

/**
 * struct rx_ctx { u8 stats[32]; u8 rxbuf[rxLen]; u8 tail[32]; } from kmalloc, with rxbuf at
 * `bufOff`: 32 in the naive struct, ARCH_DMA_MINALIGN with __aligned(ARCH_DMA_MINALIGN). The
 * CPU updates stats and tail while the device owns rxbuf.
 */
async function scenario(bufOff: number, rxLen: number) {
  const m = await createMachine({ seed: 21 });
  const dev = probe64(m, { name: '0000:04:00.0', driver: 'rxdrv' });
  const tailOff = bufOff + rxLen;
  const structSize = tailOff + FIELD;
  const s = m.kmalloc(structSize, GFP_KERNEL);
  expect(s % ARCH_DMA_MINALIGN).toBe(0); // the struct itself is kmalloc-aligned
  m.cpu.fill(s, structSize, 0xaa); // initialised by the driver: the old contents of rxbuf

  const rxbuf = s + bufOff;
  const h = dma_map_single(dev, rxbuf, rxLen, DMA_FROM_DEVICE);
  expect(dma_mapping_error(dev, h)).toBe(0);
  expect(h).toBe(m.virt_to_phys(rxbuf)); // mapped in place (not bounced)

  m.cpu.write(s, pattern(FIELD, 5)); // a counter, a timestamp...
  m.cpu.write(s + tailOff, pattern(FIELD, 6));
  const frame = pattern(rxLen, 7);
  dev.dmaWrite(h, frame);
  const d = delta(m, () => dma_unmap_single(dev, h, rxLen, DMA_FROM_DEVICE));
  return {
    got: m.cpu.read(rxbuf, rxLen),
    frame,
    stats: m.cpu.read(s, FIELD),
    tail: m.cpu.read(s + tailOff, FIELD),
    writtenBack: d.dirtyLinesWrittenBack,
  };
}

describe('CPU-written fields and a DMA_FROM_DEVICE buffer in shared cache lines (non-coherent arm64)', () => {
  test('bug: unmap\'s clean+invalidate of the shared edge lines overwrites the device\'s bytes', async () => {
    // rxbuf at [32, 96) of a 128-byte struct: line 0 is shared with stats, line 1 with tail.
    const { got, frame, stats, tail, writtenBack } = await scenario(FIELD, 64);
    expect(writtenBack).toBe(2); // both dirty edge lines were written back by DC CIVAC
    expect(got).toEqual(new Uint8Array(64).fill(0xaa)); // the CPU's stale copy, not the frame
    expect(got).not.toEqual(frame);
    // The CPU's own fields survived: that is what CIVAC on the edges is for.
    expect(stats).toEqual(pattern(FIELD, 5));
    expect(tail).toEqual(pattern(FIELD, 6));
  });

  test('fix: rxbuf aligned to ARCH_DMA_MINALIGN and padded to it loses nothing', async () => {
    const { got, frame, stats, tail, writtenBack } = await scenario(ARCH_DMA_MINALIGN, 2 * ARCH_DMA_MINALIGN);
    expect(got).toEqual(frame);
    expect(stats).toEqual(pattern(FIELD, 5));
    expect(tail).toEqual(pattern(FIELD, 6));
    expect(writtenBack).toBe(0);
  });
});
