// The part of lib/genalloc.c that kernel/dma/pool.c uses: a gen_pool of chunks, each a bitmap of
// (1 << min_alloc_order)-byte units, allocated with gen_pool_first_fit_order_align().

/** struct gen_pool_chunk: [start_addr, start_addr + size) backed by phys_addr. */
interface GenPoolChunk {
  readonly start_addr: number;
  readonly phys_addr: number;
  readonly size: number;
  /** One byte per unit: 1 allocated. */
  readonly bits: Uint8Array;
  avail: number;
}

/** struct gen_pool with gen_pool_set_algo(pool, gen_pool_first_fit_order_align, NULL). */
export class GenPool {
  /** pool->chunks: gen_pool_add_owner() does list_add_rcu(), so the newest chunk is tried first. */
  private readonly chunks: GenPoolChunk[] = [];

  constructor(private readonly min_alloc_order: number) {}

  /** gen_pool_add_virt(): a chunk of `size` bytes at `virt` whose memory is at `phys`. */
  gen_pool_add_virt(virt: number, phys: number, size: number): void {
    this.chunks.unshift({ start_addr: virt, phys_addr: phys, size, bits: new Uint8Array(size >>> this.min_alloc_order), avail: size });
  }

  /**
   * gen_pool_alloc(): the first chunk with room, and in it the first free run of
   * ceil(size / unit) units whose index is a multiple of roundup_pow_of_two(units)
   * (gen_pool_first_fit_order_align()). Returns the address, or 0.
   */
  gen_pool_alloc(size: number): number {
    if (size === 0) return 0;
    const nbits = Math.ceil(size / 2 ** this.min_alloc_order);
    const align = 2 ** Math.ceil(Math.log2(nbits));
    for (const c of this.chunks) {
      if (size > c.avail) continue;
      const start = firstZeroArea(c.bits, nbits, align);
      if (start < 0) continue;
      c.bits.fill(1, start, start + nbits);
      c.avail -= nbits * 2 ** this.min_alloc_order;
      return c.start_addr + start * 2 ** this.min_alloc_order;
    }
    return 0;
  }

  /** gen_pool_free(): the units of [addr, addr + size) go back to their chunk. */
  gen_pool_free(addr: number, size: number): void {
    const c = this.chunkOf(addr, size);
    if (c === null) return;
    const nbits = Math.ceil(size / 2 ** this.min_alloc_order);
    const start = (addr - c.start_addr) / 2 ** this.min_alloc_order;
    c.bits.fill(0, start, start + nbits);
    c.avail += nbits * 2 ** this.min_alloc_order;
  }

  /** gen_pool_has_addr(): [start, start + size) lies inside one chunk. */
  gen_pool_has_addr(start: number, size: number): boolean {
    return this.chunkOf(start, size) !== null;
  }

  /** gen_pool_virt_to_phys(), or -1 for an address in no chunk. */
  gen_pool_virt_to_phys(addr: number): number {
    const c = this.chunkOf(addr, 1);
    return c === null ? -1 : c.phys_addr + (addr - c.start_addr);
  }

  /** gen_pool_avail(): free bytes in all chunks. */
  gen_pool_avail(): number {
    return this.chunks.reduce((n, c) => n + c.avail, 0);
  }

  /** gen_pool_size(): bytes in all chunks. */
  gen_pool_size(): number {
    return this.chunks.reduce((n, c) => n + c.size, 0);
  }

  private chunkOf(addr: number, size: number): GenPoolChunk | null {
    for (const c of this.chunks) if (addr >= c.start_addr && addr + size <= c.start_addr + c.size) return c;
    return null;
  }
}

/** bitmap_find_next_zero_area() from 0 with align_mask = align - 1: the first index, or -1. */
function firstZeroArea(bits: Uint8Array, nr: number, align: number): number {
  for (let i = 0; i + nr <= bits.length; i += align) {
    const used = bits.subarray(i, i + nr).indexOf(1);
    if (used < 0) return i;
    // Skip past the used unit, to the next aligned index.
    i = Math.floor((i + used) / align) * align;
  }
  return -1;
}
