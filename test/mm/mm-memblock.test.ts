// mm/memblock.c: early allocations come from the top of the allowed range, never from reserved
// memory, and what is left goes to the buddy allocator in whole pages.
import { describe, expect, it } from 'vitest';
import { DmaSimRangeError } from '../../src/lib/errors.js';
import { MEMBLOCK_ALLOC_ACCESSIBLE, MEMBLOCK_ALLOC_ANYWHERE, Memblock } from '../../src/mm/memblock.js';
import { PAGE_SIZE } from '../../src/mm/memory.js';

const MiB = 1 << 20;
const GiB = 2 ** 30;

/** 64 MiB below 4 GiB and 64 MiB above it, the machine's default banks. */
function twoBanks(): Memblock {
  return new Memblock([
    { base: 0x8000_0000, size: 64 * MiB },
    { base: 0x1_0000_0000, size: 64 * MiB },
  ]);
}

describe('memblock', () => {
  it('reports the start and end of DRAM and which ranges are memory', () => {
    const mb = twoBanks();
    expect(mb.start()).toBe(0x8000_0000);
    expect(mb.end()).toBe(0x1_0000_0000 + 64 * MiB);
    expect(mb.isMemory(0x8000_0000, 64 * MiB)).toBe(true);
    expect(mb.isMemory(0x8000_0000 + 64 * MiB - 8, 16)).toBe(false);
    expect(mb.isMemory(0x9000_0000, 1)).toBe(false);
  });

  it('allocates top-down: the highest aligned address of the last bank first', () => {
    const mb = twoBanks();
    const top = 0x1_0000_0000 + 64 * MiB;
    const a = mb.phys_alloc_range(8 * MiB, 2 * MiB, 0, MEMBLOCK_ALLOC_ANYWHERE);
    expect(a).toBe(top - 8 * MiB);
    const b = mb.phys_alloc_range(PAGE_SIZE, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ACCESSIBLE);
    expect(b).toBe(top - 8 * MiB - PAGE_SIZE);
    expect(mb.reserved).toEqual([{ base: b, size: 8 * MiB + PAGE_SIZE }]);
  });

  it('honours the end limit, as swiotlb does for its pool below 4 GiB', () => {
    const mb = twoBanks();
    const a = mb.phys_alloc_range(4 * MiB, PAGE_SIZE, 0, 4 * GiB);
    expect(a).toBe(0x8000_0000 + 60 * MiB);
  });

  it('rounds the candidate down to the alignment', () => {
    const mb = new Memblock([{ base: 0x4000_0000, size: 16 * MiB }]);
    mb.reserve(0x4000_0000 + 15 * MiB, MiB);
    const a = mb.phys_alloc_range(PAGE_SIZE, 4 * MiB, 0, MEMBLOCK_ALLOC_ANYWHERE);
    expect(a).toBe(0x4000_0000 + 12 * MiB);
  });

  it('skips reserved regions and fails with 0 when nothing fits', () => {
    const mb = new Memblock([{ base: 0x4000_0000, size: 4 * MiB }]);
    mb.reserve(0x4000_0000 + MiB, 3 * MiB);
    expect(mb.phys_alloc_range(MiB, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ANYWHERE)).toBe(0x4000_0000);
    expect(mb.phys_alloc_range(PAGE_SIZE, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ANYWHERE)).toBe(0);
  });

  it('never returns physical address 0, which means failure', () => {
    const mb = new Memblock([{ base: 0, size: 2 * PAGE_SIZE }]);
    expect(mb.phys_alloc_range(PAGE_SIZE, PAGE_SIZE, 0, 2 * PAGE_SIZE)).toBe(PAGE_SIZE);
    expect(mb.phys_alloc_range(PAGE_SIZE, PAGE_SIZE, 0, 2 * PAGE_SIZE)).toBe(0);
  });

  it('takes a zero alignment as SMP_CACHE_BYTES and rejects a non-power-of-two one', () => {
    const mb = new Memblock([{ base: 0x4000_0000, size: MiB }]);
    expect(mb.phys_alloc_range(100, 0, 0, MEMBLOCK_ALLOC_ANYWHERE)).toBe(0x4000_0000 + MiB - 128);
    expect(() => mb.phys_alloc_range(100, 48, 0, MEMBLOCK_ALLOC_ANYWHERE)).toThrow(DmaSimRangeError);
  });

  it('merges overlapping and touching reservations', () => {
    const mb = twoBanks();
    mb.reserve(0x8000_0000, 0x1000);
    mb.reserve(0x8000_2000, 0x1000);
    mb.reserve(0x8000_0800, 0x1800);
    expect(mb.reserved).toEqual([{ base: 0x8000_0000, size: 0x3000 }]);
    expect(mb.isReserved(0x8000_2fff)).toBe(true);
    expect(mb.isReserved(0x8000_3000)).toBe(false);
  });

  it('hands the buddy allocator memory minus reserved, trimmed inward to whole pages', () => {
    const mb = new Memblock([{ base: 0x4000_0000, size: MiB }]);
    mb.reserve(0x4000_0000, 0x1800);
    mb.reserve(0x4000_8100, 0x100);
    expect(mb.freeRanges()).toEqual([
      { base: 0x4000_2000, size: 0x6000 },
      { base: 0x4000_9000, size: MiB - 0x9000 },
    ]);
  });
});
