// dmapool misuse. Arguments no C caller could pass throw a DmaSimError naming the function and
// the argument and change nothing. What the kernel accepts behaves as mm/dmapool.c does: without
// DMAPOOL_DEBUG dma_pool_free() checks nothing (a double free makes the stack a cycle, any
// mapped address is pushed as a block, an unmapped one oopses); with it, pool_block_err() and
// pool_check_block() report in the kernel's words.
import { beforeEach, describe, expect, test } from 'vitest';
import type { Device } from '../../src/dma/device.js';
import { DMA_MAPPING_ERROR } from '../../src/include/dma-mapping.js';
import {
  dma_pool_alloc, dma_pool_create, dma_pool_destroy, dma_pool_free, dma_pool_zalloc, dma_pools_show,
  type DmaPool, type DmaPoolOptions,
} from '../../src/dma/dmapool.js';
import { DmaSimError, KernelBug } from '../../src/lib/errors.js';
import { createMachine, type Machine } from '../../src/machine.js';
import { __GFP_COMP, GFP_KERNEL } from '../../src/mm/gfp.js';
import { PAGE_SIZE } from '../../src/mm/memory.js';
import { warning } from '../support/warn.js';

let m: Machine;
let dev: Device;

beforeEach(async () => {
  m = await createMachine();
  dev = m.createDevice({ name: 'dmapool-test' });
});

function create(size: number, opts: DmaPoolOptions = {}): DmaPool {
  const pool = dma_pool_create('test pool', dev, size, 8, 0, opts);
  if (pool === null) throw new Error('dma_pool_create returned NULL');
  return pool;
}

function alloc(pool: DmaPool, gfp = GFP_KERNEL): { vaddr: number; dma: number } {
  const b = dma_pool_alloc(pool, gfp);
  if (b === null) throw new Error('dma_pool_alloc returned NULL');
  return b;
}

function u64(bytes: Uint8Array, at: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
  return v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
}

const hex16 = (x: number): string => x.toString(16).padStart(16, '0');

/** The 8 bytes of a little-endian u64. */
function le(x: number): number[] {
  return Array.from({ length: 8 }, (_, i) => Math.floor(x / 256 ** i) % 256);
}

/** `f` throws a DmaSimError for `fn`'s argument `arg`, and the log does not move. */
function refused(f: () => unknown, fn: string, arg: string): void {
  const lines = m.dmesg().length;
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err instanceof DmaSimError, String(err)).toBe(true);
  expect(err).toMatchObject({ fn, arg });
  expect((err as Error).message.startsWith(`${fn}: ${arg} `)).toBe(true);
  expect(m.dmesg().length).toBe(lines);
}

describe('input no kernel could receive throws DmaSimError', () => {
  test('dma_pool_create', () => {
    const call = (...a: unknown[]): unknown => (dma_pool_create as (...x: unknown[]) => unknown)(...a);
    refused(() => call(null, dev, 64, 8, 0), 'dma_pool_create', 'name');
    refused(() => call('p', {}, 64, 8, 0), 'dma_pool_create', 'dev');
    refused(() => call('p', 'dev', 64, 8, 0), 'dma_pool_create', 'dev');
    refused(() => call('p', dev, NaN, 8, 0), 'dma_pool_create', 'size');
    refused(() => call('p', dev, -1, 8, 0), 'dma_pool_create', 'size');
    refused(() => call('p', dev, '64', 8, 0), 'dma_pool_create', 'size');
    refused(() => call('p', dev, 64, 1.5, 0), 'dma_pool_create', 'align');
    refused(() => call('p', dev, 64, 8, Infinity), 'dma_pool_create', 'boundary');
    refused(() => call('p', dev, 64, 8, 0, null), 'dma_pool_create', 'opts');
    refused(() => call('p', dev, 64, 8, 0, { debug: 1 }), 'dma_pool_create', 'opts.debug');
    // ALIGN(size, 2^33) does not fit struct dma_pool's unsigned int size.
    refused(() => call('p', dev, 64, 2 ** 33, 0), 'dma_pool_create', 'align');
    expect(dma_pools_show(dev)).toBe('poolinfo - 0.1\n');
  });

  test('dma_pool_alloc and dma_pool_zalloc', () => {
    const pool = create(64);
    const call = (f: unknown, ...a: unknown[]): unknown => (f as (...x: unknown[]) => unknown)(...a);
    for (const [f, fn] of [[dma_pool_alloc, 'dma_pool_alloc'], [dma_pool_zalloc, 'dma_pool_zalloc']] as const) {
      refused(() => call(f, null, GFP_KERNEL), fn, 'pool');
      refused(() => call(f, { size: 64 }, GFP_KERNEL), fn, 'pool');
      refused(() => call(f, pool, NaN), fn, 'gfp');
      refused(() => call(f, pool, -1), fn, 'gfp');
      refused(() => call(f, pool, 2 ** 32), fn, 'gfp');
      refused(() => call(f, pool, '0'), fn, 'gfp');
    }
    expect(pool.nr_pages).toBe(0);
    expect(pool.nr_active).toBe(0);
  });

  test('dma_pool_free', () => {
    const pool = create(64);
    const a = alloc(pool);
    const call = (...x: unknown[]): unknown => (dma_pool_free as (...y: unknown[]) => unknown)(...x);
    refused(() => call(undefined, a.vaddr, a.dma), 'dma_pool_free', 'pool');
    refused(() => call(pool, String(a.vaddr), a.dma), 'dma_pool_free', 'vaddr');
    refused(() => call(pool, NaN, a.dma), 'dma_pool_free', 'vaddr');
    refused(() => call(pool, -16, a.dma), 'dma_pool_free', 'vaddr');
    refused(() => call(pool, 4096.5, a.dma), 'dma_pool_free', 'vaddr');
    refused(() => call(pool, BigInt(a.vaddr), a.dma), 'dma_pool_free', 'vaddr');
    refused(() => call(pool, a.vaddr, -2), 'dma_pool_free', 'dma');
    refused(() => call(pool, a.vaddr, 2 ** 53), 'dma_pool_free', 'dma');
    refused(() => call(pool, a.vaddr, null), 'dma_pool_free', 'dma');
    expect(pool.nr_active).toBe(1);
    expect(u64(m.cpu.read(a.vaddr, 16), 0)).toBe(a.vaddr + 64); // the block was not touched
  });

  test('a destroyed pool (a use-after-free dmasim cannot model) and the pools attribute', () => {
    const pool = create(64);
    dma_pool_destroy(pool);
    refused(() => dma_pool_alloc(pool, GFP_KERNEL), 'dma_pool_alloc', 'pool');
    refused(() => dma_pool_free(pool, 0, 0), 'dma_pool_free', 'pool');
    refused(() => dma_pool_destroy(pool), 'dma_pool_destroy', 'pool');
    refused(() => dma_pool_destroy({} as DmaPool), 'dma_pool_destroy', 'pool');
    refused(() => dma_pools_show({ name: 'x' } as Device), 'dma_pools_show', 'dev');
  });
});

describe('kernel-tolerated misuse without DMAPOOL_DEBUG', () => {
  test('a double free of the top block makes it its own successor: it is handed out again and again', () => {
    const pool = create(64);
    const a = alloc(pool);
    alloc(pool);
    dma_pool_free(pool, a.vaddr, a.dma);
    dma_pool_free(pool, a.vaddr, a.dma);
    expect(u64(m.cpu.read(a.vaddr, 16), 0)).toBe(a.vaddr); // block->next_block == block
    expect([alloc(pool), alloc(pool), alloc(pool)]).toEqual([a, a, a]);
    expect(pool.nr_active).toBe(3);
    expect(pool.nr_pages).toBe(1);
  });

  test('a double free deeper in the stack loses the blocks below it to a cycle', () => {
    const pool = create(64);
    const [a, b, c] = [alloc(pool), alloc(pool), alloc(pool)];
    for (const x of [a, b, c, a]) dma_pool_free(pool, x.vaddr, x.dma);
    // stack a -> c -> b -> a -> c ...: the fresh blocks that followed a are unreachable.
    expect(Array.from({ length: 6 }, () => alloc(pool).vaddr)).toEqual([a, c, b, a, c, b].map((x) => x.vaddr));
  });

  test('nr_active wraps below zero as a size_t; destroy then reports busy and leaks', () => {
    const pool = create(64);
    const a = alloc(pool);
    dma_pool_free(pool, a.vaddr, a.dma);
    dma_pool_free(pool, a.vaddr, a.dma);
    expect(dma_pools_show(dev)).toBe(`poolinfo - 0.1\n${'test pool'.padEnd(16)} 18446744073709551615   64   64  1\n`);
    dma_pool_destroy(pool);
    expect(m.dmesg().at(-1)).toBe('dmapool-test dmapool-test: dma_pool_destroy test pool busy');
  });

  test('DMA_MAPPING_ERROR as the dma is stored as all ones', () => {
    const pool = create(64);
    const a = alloc(pool);
    dma_pool_free(pool, a.vaddr, DMA_MAPPING_ERROR);
    expect([...m.cpu.read(a.vaddr + 8, 8)]).toEqual(new Array(8).fill(0xff));
    expect(alloc(pool).dma).toBe(DMA_MAPPING_ERROR);
  });

  test('an address that is no block of the pool is pushed like one: the link lands there', () => {
    const pool = create(64);
    const a = alloc(pool);
    const buf = m.kzalloc(64, GFP_KERNEL);
    dma_pool_free(pool, buf, 0x4242_0000);
    const bytes = m.cpu.read(buf, 16);
    expect([u64(bytes, 0), u64(bytes, 8)]).toEqual([a.vaddr + 64, 0x4242_0000]);
    expect(m.cache.lineState(m.virt_to_phys(buf))).toBe('dirty'); // a kmalloc buffer is cacheable
    expect(pool.nr_active).toBe(0);
    expect(alloc(pool)).toEqual({ vaddr: buf, dma: 0x4242_0000 });
    expect(alloc(pool).vaddr).toBe(a.vaddr + 64);
  });

  test('a vaddr inside a block is pushed at that address, its link straddling two blocks', () => {
    const pool = create(16);
    const a = alloc(pool);
    const b = alloc(pool);
    m.cpu.write(a.vaddr, new Uint8Array(32).fill(0x11));
    dma_pool_free(pool, a.vaddr + 8, a.dma);
    expect(u64(m.cpu.read(a.vaddr + 8, 16), 0)).toBe(b.vaddr + 16);
    expect(m.cpu.read(b.vaddr + 8, 8)[0]).toBe(0x11);
    expect(alloc(pool)).toEqual({ vaddr: a.vaddr + 8, dma: a.dma });
  });

  test('freeing NULL oopses writing block->dma, and the pool is left as it was', () => {
    const pool = create(64);
    const a = alloc(pool);
    expect(() => dma_pool_free(pool, 0, a.dma)).toThrow(KernelBug);
    expect(m.dmesg().at(-1)).toBe('Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008');
    expect(pool.nr_active).toBe(1);
    expect(alloc(pool).vaddr).toBe(a.vaddr + 64);
  });

  test('an unmapped address (a vmalloc guard page) is a paging-request oops', () => {
    const pool = create(PAGE_SIZE);
    const a = alloc(pool);
    const guard = a.vaddr + PAGE_SIZE;
    expect(() => dma_pool_free(pool, guard, a.dma)).toThrow(KernelBug);
    expect(m.dmesg().at(-1)).toBe(`Unable to handle kernel paging request at virtual address ${hex16(guard + 8)}`);
  });

  test('x86_64 words its oops its own way', async () => {
    const x = await createMachine({ arch: 'x86_64' });
    const pool = dma_pool_create('p', x.createDevice({ name: 'nvme0' }), 64, 8, 0);
    if (pool === null) throw new Error('NULL');
    expect(() => dma_pool_free(pool, 0, 0)).toThrow(KernelBug);
    expect(x.dmesg().at(-1)).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000008');
  });

  test('a gfp dma_alloc_coherent refuses (__GFP_COMP) fails the alloc with its WARN', () => {
    const pool = create(64);
    expect(dma_pool_alloc(pool, GFP_KERNEL | __GFP_COMP)).toBeNull();
    expect(m.dmesg().some((l) => l === warning('dma_alloc_attrs'))).toBe(true);
    expect(pool.nr_pages).toBe(0);
  });

  test('a pool whose pages cannot be allocated returns NULL', () => {
    const pool = dma_pool_create('huge', dev, 2 ** 31 - 1, 1, 0);
    if (pool === null) throw new Error('NULL');
    expect(dma_pool_alloc(pool, GFP_KERNEL)).toBeNull();
    expect(pool.nr_pages).toBe(0);
  });

  test('with store reordering, the link still lands after the driver\'s own stores to the block', () => {
    const pool = create(64);
    const a = alloc(pool);
    m.setLoad({ storeReordering: 1 });
    m.cpu.write(a.vaddr, new Uint8Array(64).fill(0xee));
    dma_pool_free(pool, a.vaddr, a.dma);
    const bytes = m.cpu.read(a.vaddr, 16);
    expect([u64(bytes, 0), u64(bytes, 8)]).toEqual([a.vaddr + 64, a.dma]);
  });
});

describe('kernel-tolerated misuse with DMAPOOL_DEBUG (CONFIG_SLUB_DEBUG_ON)', () => {
  test('new pages are poisoned 0xa7 past each link; allocated blocks 0xa9, zalloc\'d ones 0', () => {
    const pool = create(64, { debug: true });
    const a = alloc(pool);
    expect([...m.cpu.read(a.vaddr, 64)].every((x) => x === 0xa9)).toBe(true);
    const free = m.cpu.read(a.vaddr + 64, 64);
    expect(u64(free, 0)).toBe(a.vaddr + 128);
    expect([...free.subarray(16)].every((x) => x === 0xa7)).toBe(true);
    const z = dma_pool_zalloc(pool, GFP_KERNEL);
    expect([...m.cpu.read(z?.vaddr ?? 0, 64)].every((x) => x === 0)).toBe(true);
    expect(m.dmesg().some((l) => l.includes('corrupted'))).toBe(false);
  });

  test('a free re-poisons the block under its link', () => {
    const pool = create(64, { debug: true });
    const a = alloc(pool);
    dma_pool_free(pool, a.vaddr, a.dma);
    const bytes = m.cpu.read(a.vaddr, 64);
    expect([u64(bytes, 0), u64(bytes, 8)]).toEqual([a.vaddr + 64, a.dma]);
    expect([...bytes.subarray(16)].every((x) => x === 0xa7)).toBe(true);
  });

  test('a write into a free block is reported at the next alloc, with a hex dump', () => {
    const pool = create(32, { debug: true });
    const a = alloc(pool);
    dma_pool_free(pool, a.vaddr, a.dma);
    m.cpu.write(a.vaddr + 20, [0x41, 0x42]);
    alloc(pool);
    // The first row is the link {a.vaddr + 32, a.dma}: hex, then printable bytes as themselves.
    const row = [...le(a.vaddr + 32), ...le(a.dma)];
    const text = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    expect(m.dmesg().slice(-3)).toEqual([
      `dmapool-test dmapool-test: pool_check_block test pool, ${hex16(a.vaddr)} (corrupted)`,
      `00000000: ${row.map((b) => b.toString(16).padStart(2, '0')).join(' ')}  ${text}`,
      '00000010: a7 a7 a7 a7 41 42 a7 a7 a7 a7 a7 a7 a7 a7 a7 a7  ....AB..........',
    ]);
  });

  test('a dma in no page of the pool is "bad dma", and nothing is freed', () => {
    const pool = create(64, { debug: true });
    const a = alloc(pool);
    dma_pool_free(pool, a.vaddr, 0x1234);
    expect(m.dmesg().at(-1)).toBe(`dmapool-test dmapool-test: pool_block_err test pool, ${hex16(a.vaddr)}/0x0000000000001234 (bad dma)`);
    expect(pool.nr_active).toBe(1);
    expect(alloc(pool).vaddr).toBe(a.vaddr + 64);
  });

  test('a double free is "already free", and the stack stays sound', () => {
    const pool = create(64, { debug: true });
    const a = alloc(pool);
    dma_pool_free(pool, a.vaddr, a.dma);
    dma_pool_free(pool, a.vaddr, a.dma);
    expect(m.dmesg().at(-1)).toBe(`dmapool-test dmapool-test: pool_block_err test pool, dma 0x${hex16(a.dma)} already free`);
    expect(pool.nr_active).toBe(0);
    expect([alloc(pool).vaddr, alloc(pool).vaddr]).toEqual([a.vaddr, a.vaddr + 64]);
  });
});
