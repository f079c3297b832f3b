// The kernel log behind m.dmesg(): printk levels, dev_printk prefixes, WARN reports, WARN_ONCE,
// BUG and printk_ratelimit, mirroring kernel/printk/printk.c and include/asm-generic/bug.h.
//
// Lines are stored as `dmesg -t` prints them (no timestamp), so the same program on the same seed
// gives the same log byte for byte.

import { KernelBug } from './errors.js';

/** printk log levels, include/linux/kern_levels.h. */
export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

/** Where a WARN or BUG fired: the kernel prints the file and the function. */
export interface Site {
  readonly file: string;
  readonly fn: string;
}

/** What dev_printk needs of a struct device: dev_driver_string() and dev_name(). */
export interface DevName {
  readonly driverName: string;
  readonly name: string;
}

/** One record of the log buffer. */
export interface LogRecord {
  readonly level: number;
  readonly text: string;
}

/** DEFAULT_RATELIMIT_INTERVAL (5 * HZ) and DEFAULT_RATELIMIT_BURST, include/linux/ratelimit_types.h. */
const RATELIMIT_INTERVAL_NS = 5e9;
const RATELIMIT_BURST = 10;
/** Records kept, like the fixed-size __log_buf: the oldest are dropped first. */
const LOG_CAPACITY = 1 << 16;

interface RatelimitState {
  begin: number;
  printed: number;
  missed: number;
}

export class KernelLog {
  private readonly records: LogRecord[] = [];
  private readonly once = new Set<string>();
  private readonly limits = new Map<string, RatelimitState>();
  private warnings = 0;
  /** Records printed since boot, dropped ones included (the log_next_seq of printk_ringbuffer). */
  private seq = 0;
  /**
   * Called with each record as it is logged, from inside the call that logged it (so a watcher
   * such as `dmasim check` can see which driver line caused a report); null: no call.
   */
  onRecord: ((level: number, text: string) => void) | null = null;

  /** @param now simulated monotonic time in ns, for printk_ratelimit windows. */
  constructor(private readonly now: () => number = () => 0) {}

  /** printk(): one record per line of `text`; a trailing newline ends the message, as in C. */
  printk(level: number, text: string): void {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    for (const line of body.split('\n')) {
      if (this.records.length === LOG_CAPACITY) this.records.shift();
      this.records.push({ level, text: line });
      this.seq++;
      this.onRecord?.(level, line);
    }
  }

  /** The sequence number the next record will get. */
  get nextSeq(): number {
    return this.seq;
  }

  /** The texts of the records from sequence number `seq` on that are still in the buffer. */
  textsSince(seq: number): string[] {
    const n = Math.min(this.seq - seq, this.records.length);
    return n <= 0 ? [] : this.records.slice(this.records.length - n).map((r) => r.text);
  }

  pr_err(text: string): void { this.printk(KERN_ERR, text); }
  pr_warn(text: string): void { this.printk(KERN_WARNING, text); }
  pr_notice(text: string): void { this.printk(KERN_NOTICE, text); }
  pr_info(text: string): void { this.printk(KERN_INFO, text); }

  /** dev_printk(): "<driver> <device>: text", drivers/base/core.c __dev_printk. */
  dev_printk(level: number, dev: DevName, text: string): void {
    this.printk(level, `${dev.driverName} ${dev.name}: ${text}`);
  }

  /**
   * __warn(): the "cut here" banner, the message, then the WARNING line naming the site.
   * There is no register dump or call trace: dmasim has no registers to dump.
   */
  warn(site: Site, text: string): void {
    this.printk(KERN_WARNING, '------------[ cut here ]------------');
    if (text !== '') this.printk(KERN_WARNING, text);
    this.printk(KERN_WARNING, `WARNING: CPU: 0 PID: 1 at ${site.file} ${site.fn}`);
    this.printk(KERN_WARNING, `---[ end trace ${this.warnings.toString(16).padStart(16, '0')} ]---`);
    this.warnings++;
  }

  /** WARN_ONCE(): `key` identifies the call site, whose static `__warned` flag this is. */
  warnOnce(key: string, site: Site, text: string): void {
    if (this.once.has(key)) return;
    this.once.add(key);
    this.warn(site, text);
  }

  /** printk_once() and friends. Returns true when the message was printed. */
  printOnce(key: string, level: number, text: string): boolean {
    if (this.once.has(key)) return false;
    this.once.add(key);
    this.printk(level, text);
    return true;
  }

  /**
   * ___ratelimit(), lib/ratelimit.c: `burst` messages per `interval`, then silence; the first
   * message of the next window reports how many were suppressed, under the call site's name.
   * True when the caller may print.
   */
  ratelimit(key: string): boolean {
    const t = this.now();
    let rs = this.limits.get(key);
    if (rs === undefined) {
      rs = { begin: t, printed: 0, missed: 0 };
      this.limits.set(key, rs);
    }
    if (t - rs.begin >= RATELIMIT_INTERVAL_NS) {
      if (rs.missed > 0) this.printk(KERN_WARNING, `${key}: ${rs.missed} callbacks suppressed`);
      rs.begin = t;
      rs.printed = 0;
      rs.missed = 0;
    }
    if (rs.printed >= RATELIMIT_BURST) {
      rs.missed++;
      return false;
    }
    rs.printed++;
    return true;
  }

  /** printk_ratelimited(): one message under `key`'s ratelimit state. */
  ratelimited(key: string, level: number, text: string): boolean {
    if (!this.ratelimit(key)) return false;
    this.printk(level, text);
    return true;
  }

  /** BUG(): "kernel BUG at <file>!" and the call does not return. */
  bug(site: Site, detail: string): never {
    this.printk(KERN_CRIT, `kernel BUG at ${site.file}!`);
    throw new KernelBug(`kernel BUG at ${site.file} in ${site.fn}: ${detail}`);
  }

  /** The log as `dmesg -t` prints it. */
  lines(): string[] {
    return this.records.map((r) => r.text);
  }

  /** The records with their levels (for `dmesg -l`-style filtering). */
  entries(): readonly LogRecord[] {
    return this.records;
  }
}
