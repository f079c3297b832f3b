// Reference model of drivers/iommu/iova.c (rbtree allocator, one CPU's rcache) for obviousness,
// not speed: the oracle of test/iova.property.test.ts. The tree is a sorted array of {lo, hi}
// (rb_prev/rb_next are neighbours, cached nodes object references), magazines plain arrays. The
// walk is restated over gaps: going down from the start node, the gap top is the lowest pfn_lo
// seen (capped by the limit); the range takes the first gap whose aligned candidate clears the
// node below; a candidate under low_pfn fails. iova_find_limit() is "the lowest node ending at
// or above the limit", not the kernel's tree walk.

export interface RefNode { lo: number; hi: number }
export interface RefRcache { loaded: number[]; prev: number[]; depot: number[][]; pending: boolean }

export class RefIova {
  readonly anchor: RefNode = { lo: Number.MAX_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER }; // IOVA_ANCHOR
  readonly nodes: RefNode[] = [this.anchor];
  readonly dma32: number; max32: number;
  cached = this.anchor;
  cached32 = this.anchor;
  readonly rc: RefRcache[] = Array.from({ length: 6 }, () => ({ loaded: [], prev: [], depot: [], pending: false }));

  constructor(granule: number, readonly start: number) { this.dma32 = this.max32 = 2 ** 32 / granule; }

  /** Top-down first fit from node `from`, between low (inclusive) and limit (exclusive). */
  private search(from: RefNode, limit: number, low: number, size: number, align: number): number | null {
    let top = limit;
    for (let i = this.nodes.indexOf(from); ; i--) { // i === 0 always returns
      top = Math.min(top, (this.nodes[i] as RefNode).lo);
      if (top < size) return null;
      const p = top - size - ((top - size) % align);
      if (p < low) return null;
      if (i === 0 || p > (this.nodes[i - 1] as RefNode).hi) return p;
    }
  }

  /** alloc_iova(size, limit_pfn, aligned): the new node's pfn_lo, or null. */
  alloc(size: number, limitPfn: number, aligned: boolean): number | null {
    const limit = limitPfn + 1;
    let align = 1; while (aligned && align < size) align *= 2;
    if (limit <= this.dma32 && size >= this.max32) return null;
    const from = limit <= this.dma32 ? this.cached32 : this.cached;
    let p = this.search(from, limit, this.start, size, align);
    if (p === null && from.hi < limit) {
      const at = limit > this.dma32 ? this.anchor : (this.nodes.find((n) => n.hi >= limit) as RefNode);
      p = this.search(at, limit, from.hi + 1, size, align);
    }
    if (p === null) { this.max32 = size; return null; }
    const n = { lo: p, hi: p + size - 1 };
    this.nodes.splice(this.nodes.findIndex((m) => m.lo > p), 0, n);
    if (n.hi < this.dma32) this.cached32 = n; else this.cached = n;
    return p;
  }

  /** free_iova(pfn): remove the node containing pfn, with the cached-node updates. */
  free(pfn: number): boolean {
    const i = this.nodes.findIndex((m) => m.lo <= pfn && pfn <= m.hi), n = this.nodes[i];
    if (n === undefined || n === this.anchor) return false;
    const next = this.nodes[i + 1] as RefNode;
    if (n === this.cached32 || (n.hi < this.dma32 && n.lo >= this.cached32.lo)) this.cached32 = next;
    if (n.lo < this.dma32) this.max32 = this.dma32;
    if (n.lo >= this.cached.lo) this.cached = next;
    this.nodes.splice(i, 1);
    return true;
  }

  /** reserve_iova(): overlapped nodes absorb the range; what lies past them is a new node. */
  reserve(lo: number, hi: number): void {
    let overlap = false;
    for (const n of this.nodes) {
      if (lo <= n.hi && hi >= n.lo) {
        n.lo = Math.min(n.lo, lo);
        if (hi <= n.hi) return;
        [lo, overlap] = [n.hi + 1, true];
      } else if (overlap) break;
    }
    this.nodes.splice(this.nodes.findIndex((m) => m.lo > lo), 0, { lo, hi });
  }

  private drain(mag: number[]): void { for (const pfn of mag) this.free(pfn); mag.length = 0; }

  /** alloc_iova_fast(): the pfn, or 0. Sizes below 32 become powers of two. */
  allocFast(size: number, limitPfn: number, flush: boolean): number {
    if (size < 32) size = 2 ** Math.ceil(Math.log2(size));
    const r = this.rc[Math.ceil(Math.log2(size))];
    if (r !== undefined) {
      if (r.loaded.length === 0 && r.prev.length > 0) [r.loaded, r.prev] = [r.prev, r.loaded];
      else if (r.loaded.length === 0 && r.depot.length > 0) r.loaded = r.depot.pop() as number[];
      for (let i = r.loaded.length - 1; i >= 0; i--) {
        const pfn = r.loaded[i] as number;
        if (pfn > limitPfn + 1 - size) continue;
        r.loaded[i] = r.loaded[r.loaded.length - 1] as number; // the swap trick
        r.loaded.pop();
        return pfn;
      }
    }
    let p = this.alloc(size, limitPfn, true);
    if (p === null && flush) {
      for (const c of this.rc) { this.drain(c.loaded); this.drain(c.prev); }
      for (const c of this.rc) while (c.depot.length > 0) this.drain(c.depot.pop() as number[]);
      p = this.alloc(size, limitPfn, true);
    }
    return p ?? 0;
  }

  /** free_iova_fast(): into the magazine of size's order, or the tree from order 6 up. */
  freeFast(pfn: number, size: number): void {
    const r = this.rc[Math.ceil(Math.log2(size))];
    if (r === undefined) { this.free(pfn); return; }
    if (r.loaded.length === 127 && r.prev.length < 127) [r.loaded, r.prev] = [r.prev, r.loaded];
    else if (r.loaded.length === 127) { r.depot.push(r.loaded); r.loaded = []; r.pending = true; }
    r.loaded.push(pfn);
  }

  /** Each pending depot trim once (iova_depot_work_func()). */
  work(): void {
    for (const r of this.rc.filter((c) => c.pending)) {
      r.pending = r.depot.length > 1;
      if (r.pending) this.drain(r.depot.pop() as number[]);
    }
  }
}
