// Reference model of RAM + a write-back, write-allocate, LRU CPU cache, written for obviousness,
// not speed: the oracle that the engine's property tests compare against.
//
// Physical RAM is one byte array; the cache is, per set, a list of resident lines with their own
// copy of the data, a dirty flag and a last-use tick. Nothing here is shared with the engine.

export type State = 'invalid' | 'clean' | 'dirty';

interface Line {
  addr: number;
  data: Uint8Array;
  dirty: boolean;
  used: number;
}

export class RefMachine {
  readonly ram: Uint8Array;
  private readonly sets: Line[][];
  private tick = 0;

  constructor(readonly base: number, size: number, readonly lineSize: number, readonly nSets: number, readonly ways: number) {
    this.ram = new Uint8Array(size);
    this.sets = Array.from({ length: nSets }, () => []);
  }

  private setOf(addr: number): Line[] {
    return this.sets[Math.floor(addr / this.lineSize) % this.nSets] as Line[];
  }

  private find(addr: number): Line | undefined {
    return this.setOf(addr).find((l) => l.addr === addr);
  }

  private ramLine(addr: number): Uint8Array {
    return this.ram.subarray(addr - this.base, addr - this.base + this.lineSize);
  }

  /** Lines touched by [addr, addr + len). */
  private lines(addr: number, len: number): number[] {
    const out: number[] = [];
    if (len === 0) return out;
    const first = addr - (addr % this.lineSize);
    for (let a = first; a < addr + len; a += this.lineSize) out.push(a);
    return out;
  }

  private writeBack(l: Line): void {
    if (l.dirty) this.ramLine(l.addr).set(l.data);
    l.dirty = false;
  }

  private drop(addr: number): void {
    const set = this.setOf(addr);
    const i = set.findIndex((l) => l.addr === addr);
    if (i >= 0) set.splice(i, 1);
  }

  /** A cached access: fill on miss (evicting the least recently used line), then touch. */
  private access(addr: number): Line {
    let l = this.find(addr);
    if (l === undefined) {
      const set = this.setOf(addr);
      if (set.length === this.ways) {
        const victim = set.reduce((a, b) => (b.used < a.used ? b : a));
        this.writeBack(victim);
        this.drop(victim.addr);
      }
      l = { addr, data: this.ramLine(addr).slice(), dirty: false, used: 0 };
      set.push(l);
    }
    l.used = ++this.tick;
    return l;
  }

  cpuRead(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = addr + i;
      const l = this.access(a - (a % this.lineSize));
      out[i] = l.data[a % this.lineSize] as number;
    }
    return out;
  }

  cpuWrite(addr: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const a = addr + i;
      const l = this.access(a - (a % this.lineSize));
      l.data[a % this.lineSize] = bytes[i] as number;
      l.dirty = true;
    }
  }

  clean(addr: number, len: number): void {
    for (const a of this.lines(addr, len)) {
      const l = this.find(a);
      if (l) this.writeBack(l);
    }
  }

  invalidate(addr: number, len: number): void {
    for (const a of this.lines(addr, len)) this.drop(a);
  }

  cleanInvalidate(addr: number, len: number): void {
    this.clean(addr, len);
    this.invalidate(addr, len);
  }

  /**
   * dcache_inval_poc (arch/arm64/mm/cache.S): partial lines at either end are cleaned and
   * invalidated, whole lines only invalidated; the line at the start is always operated on.
   */
  invalPoc(addr: number, len: number): void {
    const ls = this.lineSize;
    const end = addr + len;
    const startLine = addr - (addr % ls);
    const endLine = end - (end % ls);
    if (end % ls) this.cleanInvalidate(endLine, 1);
    if (addr % ls) this.cleanInvalidate(startLine, 1);
    else this.invalidate(startLine, 1);
    for (let a = startLine + ls; a < endLine; a += ls) this.invalidate(a, 1);
  }

  /** What a coherent observer sees: a dirty cached line wins over RAM. */
  private coherentView(addr: number, len: number): Uint8Array {
    const out = this.ram.slice(addr - this.base, addr - this.base + len);
    for (let i = 0; i < len; i++) {
      const a = addr + i;
      const l = this.find(a - (a % this.lineSize));
      if (l?.dirty) out[i] = l.data[a % this.lineSize] as number;
    }
    return out;
  }

  devRead(addr: number, len: number, coherent: boolean): Uint8Array {
    return coherent ? this.coherentView(addr, len) : this.ram.slice(addr - this.base, addr - this.base + len);
  }

  /** A coherent write leaves no cached copy: lines it covers in part are written back first. */
  private snoop(addr: number, len: number): void {
    for (const a of this.lines(addr, len)) {
      const l = this.find(a);
      if (!l) continue;
      if (a < addr || a + this.lineSize > addr + len) this.writeBack(l);
      this.drop(a);
    }
  }

  devWrite(addr: number, bytes: Uint8Array, coherent: boolean): void {
    if (coherent) this.snoop(addr, bytes.length);
    this.ram.set(bytes, addr - this.base);
  }

  /** memcpy by the CPU: it reads what it caches (stale or not); the destination is not left resident. */
  cpuCopy(dst: number, src: number, n: number): void {
    this.snoop(dst, n);
    const bytes = this.ram.slice(src - this.base, src - this.base + n);
    for (let i = 0; i < n; i++) {
      const a = src + i;
      const l = this.find(a - (a % this.lineSize));
      if (l) bytes[i] = l.data[a % this.lineSize] as number;
    }
    this.ram.set(bytes, dst - this.base);
  }

  state(addr: number): State {
    const l = this.find(addr - (addr % this.lineSize));
    return l === undefined ? 'invalid' : l.dirty ? 'dirty' : 'clean';
  }
}
