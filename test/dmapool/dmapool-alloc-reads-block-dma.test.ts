// mm/dmapool.c dma_pool_alloc() (read in Diangang/linux @494f4eb2, a v7.1-rc1 tree): after
// pool_block_pop() the handle is read from the block itself, `*handle = block->dma`, where
// pool_block_push() stored it (struct dma_block: next_block at +0, dma at +8). A driver that
// writes into a block after freeing it gets what it wrote back as the next handle.
import { describe, expect, it } from 'vitest';
import { dma_pool_alloc, dma_pool_create, dma_pool_free } from '../../src/dma/dmapool.js';
import { createMachine } from '../../src/machine.js';
import { GFP_KERNEL } from '../../src/mm/gfp.js';

function le64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  const d = new DataView(b.buffer);
  d.setUint32(0, v >>> 0, true);
  d.setUint32(4, Math.floor(v / 2 ** 32), true);
  return b;
}

describe('dma_pool_alloc() returns block->dma as it is in memory', () => {
  for (const coherent of [false, true]) {
    it(`a scribble on a freed block's dma field is the next handle (${coherent ? 'coherent' : 'non-coherent'} device)`, async () => {
      const m = await createMachine({ seed: 5 });
      const dev = m.createDevice({ name: 'scribble', coherent });
      const pool = dma_pool_create('scribble pool', dev, 64, 64, 0);
      if (pool === null) throw new Error('no pool');
      const a = dma_pool_alloc(pool, GFP_KERNEL);
      if (a === null) throw new Error('no block');
      dma_pool_free(pool, a.vaddr, a.dma);
      const bogus = a.dma + 0x1000_0000;
      m.cpu.write(a.vaddr + 8, le64(bogus)); // use after free: the driver writes block->dma
      const b = dma_pool_alloc(pool, GFP_KERNEL);
      expect(b?.vaddr).toBe(a.vaddr);
      expect(b?.dma).toBe(bogus);
    });
  }

  it('an untouched freed block hands back the dma its free stored', async () => {
    const m = await createMachine({ seed: 5 });
    const dev = m.createDevice({ name: 'clean' });
    const pool = dma_pool_create('clean pool', dev, 64, 64, 0);
    if (pool === null) throw new Error('no pool');
    const a = dma_pool_alloc(pool, GFP_KERNEL);
    if (a === null) throw new Error('no block');
    dma_pool_free(pool, a.vaddr, a.dma + 64); // a wrong dma at free is stored, then returned
    expect(dma_pool_alloc(pool, GFP_KERNEL)?.dma).toBe(a.dma + 64);
  });
});
