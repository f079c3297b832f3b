// Simulated time and the events on it: kernel/time/timer.c (timers, mod_timer), the delay loops
// of include/linux/delay.h (ndelay, udelay, msleep), and the hardware's own clock that device
// models schedule their work on.
//
// The clock is in nanoseconds. It advances with the work the cost model prices (sampled from the
// machine's counters), with every CPU access (CPU_ACCESS_NS, so a polling loop makes progress),
// with MMIO accesses and with delays. Every driver operation is an interleaving point: before it
// runs, the events whose deadline has passed run, in deadline order (ties in the order they were
// scheduled), so the same program on the same seed interleaves the same way.
//
// The idle point is one compare: `next` is the earliest deadline (Infinity with no event), and a
// CPU access compares it with the clock it already holds; the counters are sampled only when an
// event is pending.

import { DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';

/** What one CPU load or store costs on the clock: enough that a polling loop lets time pass. */
export const CPU_ACCESS_NS = 1;

/** Below 2^42 ns, sums of whole multiples of 2^-10 ns are exact in a double (cpuPoints()). */
const EXACT_SUMS_BELOW = 2 ** 42;

/** What the clock needs from the machine: the work the cost model has priced so far, in ns. */
export interface ClockDeps {
  workNs(): number;
  /** A callback of an event threw: reported, and the machine keeps running. */
  onEventError(name: string, err: unknown): void;
}

/** A pending event (struct timer_list, or a device model's scheduled work). */
export interface TimerEvent {
  readonly name: string;
  /** Simulated ns at which it runs. */
  readonly expires: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** The clock's own view of an event: re-armed in place (mod_timer()), so work that recurs allocates nothing. */
interface Timer {
  readonly name: string;
  expires: number;
  seq: number;
  readonly fn: () => void;
  pending: boolean;
}

export class Clock {
  /** The clock as of the last sample (ns), plus CPU accesses, MMIO and delays since. */
  private ns = 0;
  /** The cost model's total at the last sample. */
  private work = 0;
  /** Earliest deadline of a pending event; Infinity when none (the idle point's one compare). */
  private next = Infinity;
  /** Pending events sorted by (expires, seq). */
  private readonly events: Timer[] = [];
  private seq = 0;
  /** Events are running: an operation they make is not an interleaving point (no nesting). */
  private running = false;

  constructor(private readonly deps: ClockDeps) {}

  /** ktime_get(): the clock with the work priced since the last sample. */
  now(): number {
    this.sample();
    return this.ns;
  }

  private sample(): void {
    const w = this.deps.workNs();
    this.ns += w - this.work;
    this.work = w;
  }

  /** Whether any event is pending. */
  get pending(): number {
    return this.events.length;
  }

  /**
   * The interleaving point of a CPU access: the access's own time, then the due events. Nothing
   * is sampled, so an idle point is an add and a compare.
   */
  cpuPoint(): void {
    this.ns += CPU_ACCESS_NS;
    if (this.next <= this.ns) this.runDue();
  }

  /**
   * The interleaving points of `n` CPU accesses in a row, each as cpuPoint() takes it: the
   * batched NIC path makes the accesses on the engine and their points here.
   */
  cpuPoints(n: number): void {
    // No event comes due on the way, and the clock is a whole multiple of 2^-10 ns small enough
    // that every partial sum is exact: n points at once give the very number n in a row give.
    const end = this.ns + n * CPU_ACCESS_NS;
    if (this.next > end && end < EXACT_SUMS_BELOW && Number.isInteger(this.ns * 1024)) {
      this.ns = end;
      return;
    }
    for (let i = 0; i < n; i++) this.cpuPoint();
  }

  /** The interleaving point of a DMA API call or an MMIO access: the priced work counts. */
  point(): void {
    if (this.next === Infinity) return;
    this.sample();
    if (this.next <= this.ns) this.runDue();
  }

  /**
   * Time passes by `ns` (a delay, an MMIO round trip): each event due on the way runs at its own
   * deadline, as a timer interrupt would during a udelay() loop or an msleep().
   */
  advance(ns: number): void {
    this.sample();
    const until = this.ns + ns;
    while (!this.running && this.next <= until) {
      this.ns = Math.max(this.ns, this.next);
      this.runDue();
    }
    // Events may have taken time of their own (a udelay() in a handler).
    this.ns = Math.max(this.ns, until);
  }

  /**
   * add_timer() / a model's scheduled work: fn runs at the first interleaving point at or after
   * now + delayNs. Returns the event, for del_timer().
   */
  schedule(fn: string, delayNs: number, name: string, cb: () => void): TimerEvent {
    if (typeof delayNs !== 'number' || !Number.isFinite(delayNs)) throw new DmaSimTypeError(fn, 'delayNs', `must be a finite number of ns, got ${String(delayNs)}`);
    if (delayNs < 0) throw new DmaSimRangeError(fn, 'delayNs', `is in the past (${delayNs} ns)`);
    if (typeof cb !== 'function') throw new DmaSimTypeError(fn, 'fn', 'must be a function');
    return this.addTimer(delayNs, name, cb);
  }

  /** add_timer() for the kernel's own timers (arguments known good). */
  addTimer(delayNs: number, name: string, cb: () => void): TimerEvent {
    const ev: Timer = { name, expires: 0, seq: 0, fn: cb, pending: false };
    this.arm(ev, delayNs);
    return ev;
  }

  /** timer_setup(): an event that is not pending yet, for arm() to (re)schedule as often as it recurs. */
  timer(name: string, cb: () => void): TimerEvent {
    const ev: Timer = { name, expires: Infinity, seq: 0, fn: cb, pending: false };
    return ev;
  }

  /**
   * mod_timer(): the event runs `delayNs` from now, moved if it was pending (a device's work
   * that recurs re-arms one event instead of allocating one each time).
   */
  arm(event: TimerEvent, delayNs: number): void {
    const ev = event as Timer;
    if (ev.pending) this.remove(ev);
    ev.expires = this.now() + delayNs;
    ev.seq = this.seq++;
    ev.pending = true;
    // Insertion from the back, in place (splice() would allocate the array of removed items).
    const q = this.events;
    let i = q.length;
    q.push(ev);
    for (; i > 0 && (q[i - 1] as Timer).expires > ev.expires; i--) q[i] = q[i - 1] as Timer;
    q[i] = ev;
    this.next = (q[0] as Timer).expires;
  }

  /** The event out of the queue, in place (as arm() inserts: no array of removed items). */
  private remove(ev: Timer): void {
    const q = this.events;
    for (let i = q.indexOf(ev); i < q.length - 1; i++) q[i] = q[i + 1] as Timer;
    q.pop();
    ev.pending = false;
    this.next = q.length === 0 ? Infinity : (q[0] as Timer).expires;
  }

  /** del_timer(): true when the event was still pending. */
  cancel(event: TimerEvent): boolean {
    const ev = event as Timer;
    if (!ev.pending) return false;
    this.remove(ev);
    return true;
  }

  /** Runs every event due by now, including those the running ones schedule for now. */
  private runDue(): void {
    if (this.running) return;
    this.running = true;
    try {
      while (this.next <= this.ns) {
        const ev = this.events.shift() as Timer;
        ev.pending = false;
        this.next = this.events.length === 0 ? Infinity : (this.events[0] as Timer).expires;
        try {
          ev.fn();
        } catch (err) {
          this.deps.onEventError(ev.name, err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
