// The per-CPU trace ring buffer of kernel/trace/ring_buffer.c, reduced to what tracefs shows:
// data pages of BUF_PAGE_SIZE bytes, events that take their recorded size, and overwrite mode
// (the default): when the writer needs a page and all are full, the oldest page is dropped with
// all its events (they count as "overrun"). A consuming reader (trace_pipe) learns how many events
// it lost; a non-consuming one (trace) reads what is left.

/** PAGE_SIZE minus the buffer_data_page header (timestamp + commit), as BUF_PAGE_SIZE. */
export const BUF_PAGE_SIZE = 4096 - 16;
/** RB_EVNT_HDR_SIZE: the 4-byte header in front of every event's payload. */
const RB_EVNT_HDR_SIZE = 4;
/** RB_ALIGNMENT: events are 4-byte aligned. */
const RB_ALIGNMENT = 4;

export interface RbEvent<T> {
  readonly ts: number;
  readonly data: T;
  readonly length: number;
}

interface DataPage<T> {
  events: RbEvent<T>[];
  used: number;
}

/** One CPU's buffer (struct ring_buffer_per_cpu). */
export class RingBufferPerCpu<T> {
  private pages: DataPage<T>[] = [];
  private nrPages: number;
  /** Events written, including those later overwritten (entries-written). */
  written = 0;
  /** Events dropped by overwrite and not yet reported to a consuming reader. */
  private lostSinceRead = 0;
  overrun = 0;

  constructor(size: number) {
    this.nrPages = nrPagesFor(size);
  }

  /** ring_buffer_size(): the bytes of its data pages. */
  size(): number {
    return this.nrPages * BUF_PAGE_SIZE;
  }

  /** ring_buffer_resize(): keeps the newest events that still fit. */
  resize(size: number): void {
    this.nrPages = nrPagesFor(size);
    while (this.pages.length > this.nrPages) this.dropOldest();
  }

  /** ring_buffer_lock_reserve() + commit of one event whose payload is `payload` bytes. */
  write(ts: number, data: T, payload: number): void {
    const length = alignUp(RB_EVNT_HDR_SIZE + payload);
    let tail = this.pages[this.pages.length - 1];
    if (tail === undefined || tail.used + length > BUF_PAGE_SIZE) {
      if (this.pages.length === this.nrPages) this.dropOldest();
      tail = { events: [], used: 0 };
      this.pages.push(tail);
    }
    tail.events.push({ ts, data, length });
    tail.used += length;
    this.written++;
  }

  /** rb_handle_head_page() in overwrite mode: the head page and its events are gone. */
  private dropOldest(): void {
    const head = this.pages.shift();
    if (head === undefined) return;
    this.overrun += head.events.length;
    this.lostSinceRead += head.events.length;
  }

  /** ring_buffer_entries_cpu(): events still in the buffer. */
  entries(): number {
    let n = 0;
    for (const p of this.pages) n += p.events.length;
    return n;
  }

  /** The events in order, oldest first (a ring_buffer_iter over the CPU). */
  *iterate(): IterableIterator<RbEvent<T>> {
    for (const p of this.pages) yield* p.events;
  }

  /** ring_buffer_consume(): the oldest event and how many were lost before it. */
  consume(): { event: RbEvent<T>; lost: number } | null {
    const head = this.pages[0];
    const event = head?.events.shift();
    if (head === undefined || event === undefined) return null;
    head.used -= event.length;
    if (head.events.length === 0 && this.pages.length > 1) this.pages.shift();
    const lost = this.lostSinceRead;
    this.lostSinceRead = 0;
    return { event, lost };
  }

  /** ring_buffer_reset_cpu(): empty, counters back to zero. */
  reset(): void {
    this.pages = [];
    this.written = 0;
    this.overrun = 0;
    this.lostSinceRead = 0;
  }
}

/** DIV_ROUND_UP(size, BUF_PAGE_SIZE), and never fewer than two pages (rb_allocate_pages). */
function nrPagesFor(size: number): number {
  return Math.max(2, Math.ceil(size / BUF_PAGE_SIZE));
}

function alignUp(n: number): number {
  return (n + RB_ALIGNMENT - 1) & ~(RB_ALIGNMENT - 1);
}
