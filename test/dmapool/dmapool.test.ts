// mm/dmapool.c: the creation rules of dma_pool_create_node(), how pool_initialise_page() carves
// a page, the LIFO free stack and the {next, dma} link it leaves in every free block, pages kept
// until dma_pool_destroy() (and all leaked when the pool is busy), dma_pool_zalloc() and the
// `pools` attribute. Default machine: arm64, so a device is non-coherent unless told otherwise.
import { beforeEach, describe, expect, test } from 'vitest';
import type { Device } from '../../src/dma/device.js';
import {
  dma_pool_alloc, dma_pool_create, dma_pool_destroy, dma_pool_free, dma_pool_zalloc, dma_pools_show,
  type DmaPool,
} from '../../src/dma/dmapool.js';
import { createMachine, type Machine } from '../../src/machine.js';
import { GFP_KERNEL, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { isLinearMapAddress, isVmallocAddr, PAGE_SIZE } from '../../src/mm/memory.js';

let m: Machine;
let dev: Device;
let cdev: Device;

beforeEach(async () => {
  m = await createMachine();
  dev = m.createDevice({ name: 'dmapool-test' });
  cdev = m.createDevice({ name: 'dmapool-coh', coherent: true });
});

function create(size: number, align: number, boundary: number, d: Device = dev): DmaPool {
  const pool = dma_pool_create('test pool', d, size, align, boundary);
  if (pool === null) throw new Error(`dma_pool_create(${size}, ${align}, ${boundary}) returned NULL`);
  return pool;
}

function alloc(pool: DmaPool): { vaddr: number; dma: number } {
  const b = dma_pool_alloc(pool, GFP_KERNEL);
  if (b === null) throw new Error('dma_pool_alloc returned NULL');
  return b;
}

/** A little-endian u64 from 8 bytes (every dmasim address is below 2^53). */
function u64(bytes: Uint8Array, at: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
  return v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
}

/** The {next, dma} link at the head of a block, as the CPU reads it. */
function link(vaddr: number): { next: number; dma: number } {
  const b = m.cpu.read(vaddr, 16);
  return { next: u64(b, 0), dma: u64(b, 8) };
}

function freePages(): number {
  return m.pages.nrFree(ZONE_DMA) + m.pages.nrFree(ZONE_DMA32) + m.pages.nrFree(ZONE_NORMAL);
}

describe('dma_pool_create_node() rules (KERNEL.md §5.2)', () => {
  test('a NULL dev gives NULL', () => {
    expect(dma_pool_create('p', null, 64, 8, 0)).toBeNull();
  });

  test('align 0 becomes 1; an align that is not a power of two gives NULL', () => {
    expect(create(17, 0, 0).size).toBe(17);
    expect(dma_pool_create('p', dev, 64, 3, 0)).toBeNull();
    expect(dma_pool_create('p', dev, 64, 48, 0)).toBeNull();
  });

  test('size 0 or above INT_MAX gives NULL; INT_MAX itself is accepted', () => {
    expect(dma_pool_create('p', dev, 0, 8, 0)).toBeNull();
    expect(dma_pool_create('p', dev, 2 ** 31, 8, 0)).toBeNull();
    expect(create(2 ** 31 - 1, 1, 0).size).toBe(2 ** 31 - 1);
  });

  test('a size below sizeof(struct dma_block) is raised to 16', () => {
    expect(create(1, 1, 0).size).toBe(16);
    expect(create(15, 0, 0).size).toBe(16);
  });

  test('size = ALIGN(size, align); allocation = max(size, PAGE_SIZE)', () => {
    expect(create(17, 8, 0).size).toBe(24);
    expect(create(100, 64, 0).size).toBe(128);
    expect(create(68, 32, 4096).size).toBe(96);
    expect(create(16, 16, 0).allocation).toBe(PAGE_SIZE);
    expect(create(5000, 8, 0).allocation).toBe(5000);
  });

  test('boundary: 0 is the allocation, below size or not a power of two is NULL, then min(boundary, allocation)', () => {
    expect(create(64, 8, 0).boundary).toBe(PAGE_SIZE);
    expect(dma_pool_create('p', dev, 64, 8, 32)).toBeNull();
    expect(dma_pool_create('p', dev, 64, 8, 3000)).toBeNull();
    expect(create(64, 8, 64).boundary).toBe(64);
    expect(create(64, 8, 1 << 20).boundary).toBe(PAGE_SIZE);
  });

  test('the name is strscpy()d into char name[32]', () => {
    const pool = dma_pool_create('a'.repeat(40), dev, 64, 8, 0);
    expect(pool?.name).toBe('a'.repeat(31));
  });

  test('creating a pool allocates nothing (pages come with the first dma_pool_alloc)', () => {
    const before = freePages();
    const pool = create(64, 8, 0);
    expect(freePages()).toBe(before);
    expect(pool.nr_pages).toBe(0);
  });
});

describe('pool_initialise_page(): block placement', () => {
  test('a fresh pool hands out offsets 0, size, 2*size... of one coherent page', () => {
    const pool = create(64, 64, 0);
    const blocks = Array.from({ length: 5 }, () => alloc(pool));
    const first = blocks[0] as { vaddr: number; dma: number };
    expect(isVmallocAddr(first.vaddr)).toBe(true); // the uncached remap of a non-coherent device
    expect(first.vaddr % PAGE_SIZE).toBe(0);
    expect(first.dma % PAGE_SIZE).toBe(0);
    blocks.forEach((b, i) => {
      expect(b.vaddr - first.vaddr).toBe(i * 64);
      expect(b.dma - first.dma).toBe(i * 64);
    });
    expect(pool.nr_blocks).toBe(PAGE_SIZE / 64);
    expect(pool.nr_pages).toBe(1);
  });

  test('a coherent device gets linear-map blocks', () => {
    const b = alloc(create(64, 64, 0, cdev));
    expect(isLinearMapAddress(b.vaddr)).toBe(true);
    expect(m.virt_to_phys(b.vaddr)).toBe(b.dma);
  });

  test('a block that would cross the boundary starts at the boundary', () => {
    const pool = create(48, 16, 128);
    const blocks = Array.from({ length: 64 }, () => alloc(pool));
    const base = (blocks[0] as { vaddr: number }).vaddr;
    expect(blocks.slice(0, 6).map((b) => b.vaddr - base)).toEqual([0, 48, 128, 176, 256, 304]);
    for (const b of blocks) expect(Math.floor((b.dma % PAGE_SIZE) / 128)).toBe(Math.floor(((b.dma % PAGE_SIZE) + 47) / 128));
    expect(pool.nr_blocks).toBe(64);
    expect(pool.nr_pages).toBe(1);
    alloc(pool);
    expect(pool.nr_pages).toBe(2);
  });

  test('blocks are aligned to align (size is rounded up to it)', () => {
    const pool = create(20, 32, 0);
    for (let i = 0; i < 200; i++) expect(alloc(pool).dma % 32).toBe(0);
    expect(pool.nr_blocks).toBe(PAGE_SIZE / 32 * 2);
  });

  test('a block larger than a page gets a page of its own', () => {
    const pool = create(5000, 8, 0);
    const a = alloc(pool);
    const b = alloc(pool);
    expect(pool.nr_pages).toBe(2);
    expect(pool.nr_blocks).toBe(2);
    expect(a.dma % PAGE_SIZE).toBe(0);
    expect(b.dma % PAGE_SIZE).toBe(0);
  });
});

describe('the free stack (pool_block_push / pool_block_pop)', () => {
  test('frees are reused last in, first out; a new page only when the stack is empty', () => {
    const pool = create(64, 64, 0);
    const [a, b, c] = [alloc(pool), alloc(pool), alloc(pool)];
    dma_pool_free(pool, a.vaddr, a.dma);
    dma_pool_free(pool, c.vaddr, c.dma);
    expect(alloc(pool)).toEqual(c);
    expect(alloc(pool)).toEqual(a);
    expect(alloc(pool).vaddr).toBe(b.vaddr + 128);
    expect(pool.nr_active).toBe(4);
  });

  test('a page is added only when the stack is empty, its last block linked to NULL', () => {
    const pool = create(2048, 8, 0);
    const a = alloc(pool);
    alloc(pool);
    dma_pool_free(pool, a.vaddr, a.dma);
    expect(alloc(pool)).toEqual(a);
    expect(pool.nr_pages).toBe(1);
    const d = alloc(pool);
    expect(pool.nr_pages).toBe(2);
    expect(link(d.vaddr + 2048)).toEqual({ next: 0, dma: d.dma + 2048 });
  });
});

describe('the {next, dma} link in the first 16 bytes of each free block', () => {
  test('a fresh page links its blocks in ascending order, the last one to NULL', () => {
    const pool = create(64, 64, 0);
    const a = alloc(pool);
    expect(link(a.vaddr)).toEqual({ next: a.vaddr + 64, dma: a.dma }); // the block keeps its link once allocated
    expect(link(a.vaddr + 64)).toEqual({ next: a.vaddr + 128, dma: a.dma + 64 });
    expect(link(a.vaddr + PAGE_SIZE - 64)).toEqual({ next: 0, dma: a.dma + PAGE_SIZE - 64 });
  });

  test('dma_pool_free() writes the old top and the dma it is given, visible to CPU and device', () => {
    const pool = create(64, 64, 0);
    const [a, b] = [alloc(pool), alloc(pool)];
    m.cpu.write(a.vaddr, new Uint8Array(64).fill(0xee));
    dma_pool_free(pool, a.vaddr, a.dma);
    expect(link(a.vaddr)).toEqual({ next: b.vaddr + 64, dma: a.dma });
    dma_pool_free(pool, b.vaddr, b.dma);
    expect(link(b.vaddr)).toEqual({ next: a.vaddr, dma: b.dma });
    const seen = dev.dmaRead(b.dma, 16);
    expect({ next: u64(seen, 0), dma: u64(seen, 8) }).toEqual({ next: a.vaddr, dma: b.dma });
    expect([...m.cpu.read(a.vaddr + 16, 48)].every((x) => x === 0xee)).toBe(true); // only the link is written
  });

  test('on a non-coherent device the link goes around the cache; on a coherent one through it', () => {
    const nc = create(64, 64, 0);
    const x = alloc(nc);
    const before = m.stats().uncachedBytes;
    dma_pool_free(nc, x.vaddr, x.dma);
    expect(m.stats().uncachedBytes - before).toBe(16);
    expect(m.cache.lineState(x.dma)).toBe('invalid');

    const coh = create(64, 64, 0, cdev);
    const y = alloc(coh);
    m.cache.clean(y.dma, 64);
    dma_pool_free(coh, y.vaddr, y.dma);
    expect(m.cache.lineState(y.dma)).toBe('dirty');
    const seen = cdev.dmaRead(y.dma, 16); // the coherent device snoops the dirty line
    expect(u64(seen, 8)).toBe(y.dma);
  });

  test('the dma a free stores is the one the next alloc of that block returns', () => {
    const pool = create(64, 64, 0);
    const a = alloc(pool);
    dma_pool_free(pool, a.vaddr, 0x1234_5678);
    expect(link(a.vaddr).dma).toBe(0x1234_5678);
    expect(alloc(pool)).toEqual({ vaddr: a.vaddr, dma: 0x1234_5678 });
  });
});

describe('pages and dma_pool_destroy()', () => {
  test('pages are never freed before destroy, and a clean destroy frees them all', () => {
    const before = freePages();
    const areas = m.vm.areas().length;
    const pool = create(1024, 8, 0);
    const blocks = Array.from({ length: 10 }, () => alloc(pool));
    expect(pool.nr_pages).toBe(3);
    const held = freePages();
    expect(held).toBe(before - 3);
    for (const b of blocks) dma_pool_free(pool, b.vaddr, b.dma);
    expect(freePages()).toBe(held);
    dma_pool_destroy(pool);
    expect(freePages()).toBe(before);
    expect(m.vm.areas().length).toBe(areas);
    expect(m.dmesg().some((l) => l.includes('busy'))).toBe(false);
  });

  test('a busy pool is reported as the kernel reports it, and leaks every page', () => {
    const drv = m.createDevice({ name: '0000:02:00.0', driver: 'mynic' });
    const before = freePages();
    const pool = dma_pool_create('rx-desc', drv, 512, 8, 0);
    if (pool === null) throw new Error('NULL');
    const blocks = Array.from({ length: 12 }, () => alloc(pool));
    for (const b of blocks.slice(1)) dma_pool_free(pool, b.vaddr, b.dma);
    const areas = m.vm.areas().length;
    dma_pool_destroy(pool);
    expect(m.dmesg().at(-1)).toBe('mynic 0000:02:00.0: dma_pool_destroy rx-desc busy');
    expect(freePages()).toBe(before - 2);
    expect(m.vm.areas().length).toBe(areas); // the uncached remaps stay too
  });

  test('dma_pool_destroy(NULL) does nothing', () => {
    const lines = m.dmesg().length;
    dma_pool_destroy(null);
    expect(m.dmesg().length).toBe(lines);
  });
});

describe('dma_pool_zalloc()', () => {
  test('zeroes the whole block, link included', () => {
    for (const d of [dev, cdev]) {
      const pool = create(96, 32, 0, d);
      const a = alloc(pool);
      m.cpu.write(a.vaddr, new Uint8Array(96).fill(0x5a));
      dma_pool_free(pool, a.vaddr, a.dma);
      const z = dma_pool_zalloc(pool, GFP_KERNEL);
      expect(z).toEqual(a);
      expect([...m.cpu.read(a.vaddr, 96)].every((x) => x === 0)).toBe(true);
      expect([...d.dmaRead(a.dma, 96)].every((x) => x === 0)).toBe(true);
    }
  });
});

describe('the pools attribute (pools_show)', () => {
  test('one "%-16s %4zu %4zu %4u %2zu" line per pool, newest first', () => {
    const small = create(16, 16, 0);
    const big = dma_pool_create('big buffers', dev, 3000, 64, 0);
    if (big === null) throw new Error('NULL');
    alloc(small);
    alloc(small);
    alloc(big);
    expect(dma_pools_show(dev)).toBe(
      'poolinfo - 0.1\n' +
      'big buffers         1    1 3008  1\n' +
      'test pool           2  256   16  1\n',
    );
    expect(dma_pools_show(cdev)).toBe('poolinfo - 0.1\n');
  });

  test('a destroyed pool leaves the list', () => {
    const a = create(64, 8, 0);
    const b = create(128, 8, 0);
    dma_pool_destroy(b);
    expect(dma_pools_show(dev)).toBe(`poolinfo - 0.1\n${'test pool'.padEnd(16)}    0    0   64  0\n`);
    dma_pool_destroy(a);
    expect(dma_pools_show(dev)).toBe('poolinfo - 0.1\n');
  });
});

describe('x86_64', () => {
  test('pools work the same on a coherent-only machine', async () => {
    const x = await createMachine({ arch: 'x86_64' });
    const d = x.createDevice({ name: 'nvme0' });
    const pool = dma_pool_create('prp list', d, 256, 256, 0);
    if (pool === null) throw new Error('NULL');
    const a = dma_pool_alloc(pool, GFP_KERNEL);
    const b = dma_pool_alloc(pool, GFP_KERNEL);
    if (a === null || b === null) throw new Error('NULL');
    dma_pool_free(pool, a.vaddr, a.dma);
    dma_pool_free(pool, b.vaddr, b.dma);
    const bytes = d.dmaRead(b.dma, 16);
    expect(u64(bytes, 0)).toBe(a.vaddr);
    dma_pool_destroy(pool);
  });
});
