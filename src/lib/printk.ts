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

/** TAINT_CPU_OUT_OF_SPEC ('S'), include/linux/panic.h: a bit number of the taint mask. */
export const TAINT_CPU_OUT_OF_SPEC = 2;

/**
 * Where a WARN or BUG fired (see warn-sites.ts): __FILE__ and __LINE__ as the bug table keeps
 * them (line null: not known, see there), and the function %pS names.
 */
export interface Site {
  readonly file: string;
  readonly line: number | null;
  readonly fn: string;
}

/**
 * The task that runs dmasim's calls: kernel_init, PID 1, whose comm is still "swapper/0" while
 * initcalls (and so driver probes) run, as boot-time reports show.
 */
export const CURRENT_COMM = 'swapper/0';
export const CURRENT_PID = 1;

/**
 * %pS of a WARN or BUG address: "<symbol>+<offset>/<size>". dmasim has no machine code, so the
 * offset and the size are 0; the symbol and the source line are what identify the site.
 */
function pS(site: Site): string {
  return `${site.fn}+0x0/0x0`;
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
/**
 * __LOG_BUF_LEN, 1 << CONFIG_LOG_BUF_SHIFT (21 here), and PRB_AVGBITS (kernel/printk/printk.c):
 * the ring has __LOG_BUF_LEN >> PRB_AVGBITS record descriptors, 65,536 of them.
 */
export const LOG_BUF_SHIFT = 21;
const PRB_AVGBITS = 5;
/** LOG_BUF_LEN_MAX, kernel/printk/printk.c: log_buf_len= is clamped to 2 GiB. */
const LOG_BUF_LEN_MAX = 2 ** 31;

interface RatelimitState {
  begin: number;
  printed: number;
  missed: number;
}

export class KernelLog {
  /**
   * The record ring, as printk_ringbuffer's descriptor ring: slot seq & mask holds record seq, so
   * an append is O(1) and the oldest record is overwritten once the ring is full.
   */
  private levels = new Uint8Array(1 << (LOG_BUF_SHIFT - PRB_AVGBITS));
  private texts: string[] = new Array<string>(this.levels.length).fill('');
  /** Records printed since boot, overwritten ones included (the next record's sequence number). */
  private seq = 0;
  /** log_buf_len: the buffer's size in bytes (its descriptors are this >> PRB_AVGBITS). */
  private bufLen = 2 ** LOG_BUF_SHIFT;
  /** new_log_buf_len: what log_buf_len= asked for, applied by setupLogBuf(). */
  private newBufLen = 0;
  private readonly once = new Set<string>();
  /** The __warned flags of the WARN_ONCE sites that have fired. */
  private readonly warned = new Set<Site>();
  private readonly limits = new Map<string, RatelimitState>();
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
      const slot = this.seq & (this.levels.length - 1);
      this.levels[slot] = level;
      this.texts[slot] = line;
      this.seq++;
      this.onRecord?.(level, line);
    }
  }

  /** The sequence number the next record will get. */
  get nextSeq(): number {
    return this.seq;
  }

  /** The texts of the records from sequence number `from` on that are still in the ring. */
  textsSince(from: number): string[] {
    const n = Math.min(this.seq - from, this.seq, this.levels.length);
    const out: string[] = [];
    for (let s = this.seq - n; s < this.seq; s++) out.push(this.texts[s & (this.levels.length - 1)] as string);
    return out;
  }

  /**
   * log_buf_len_update(), kernel/printk/printk.c: the size is clamped to LOG_BUF_LEN_MAX and
   * rounded up to a power of two; only a larger buffer than the current one is taken.
   */
  logBufLenUpdate(size: number): void {
    if (size > LOG_BUF_LEN_MAX) {
      size = LOG_BUF_LEN_MAX;
      this.pr_err('log_buf over 2G is not supported.');
    }
    if (size > 0) size = 2 ** Math.ceil(Math.log2(size));
    if (size > this.bufLen) this.newBufLen = size;
  }

  /**
   * setup_log_buf(), kernel/printk/printk.c: moves the records into a ring of
   * new_log_buf_len >> PRB_AVGBITS descriptors and reports the new size and how much of the
   * boot buffer's text space the records had left free.
   */
  setupLogBuf(): void {
    if (this.newBufLen === 0) return;
    const kept = this.records();
    this.levels = new Uint8Array(this.newBufLen / 2 ** PRB_AVGBITS);
    this.texts = new Array<string>(this.levels.length).fill('');
    let free = this.bufLen;
    kept.forEach((r, i) => {
      const slot = (this.seq - kept.length + i) & (this.levels.length - 1);
      this.levels[slot] = r.level;
      this.texts[slot] = r.text;
      free = r.text.length > free ? 0 : free - r.text.length;
    });
    const early = this.bufLen;
    this.bufLen = this.newBufLen;
    this.newBufLen = 0;
    this.pr_info(`log_buf_len: ${this.bufLen} bytes`);
    this.pr_info(`early log buf free: ${free}(${Math.floor((free * 100) / early)}%)`);
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
   * A WARN: __warn_printk() prints the "cut here" banner and the message, then report_bug()
   * calls __warn() (kernel/panic.c), whose banner is 6.19's "WARNING: <file>:<line> at <%pS>,
   * CPU#<cpu>: <comm>/<pid>" ("WARNING: at <%pS>, ..." without a file), and print_oops_end_marker()
   * ends it with a zero trace id. There is no register dump or call trace: dmasim has no
   * registers to dump.
   */
  warn(site: Site, text: string): void {
    this.printk(KERN_WARNING, '------------[ cut here ]------------');
    if (text !== '') this.printk(KERN_WARNING, text);
    const at = site.line === null ? '' : ` ${site.file}:${site.line}`;
    this.printk(KERN_WARNING, `WARNING:${at} at ${pS(site)}, CPU#0: ${CURRENT_COMM}/${CURRENT_PID}`);
    this.printk(KERN_WARNING, '---[ end trace 0000000000000000 ]---');
  }

  /** The taint mask, as /proc/sys/kernel/tainted reads it: add_taint() sets bit `flag`. */
  tainted = 0;

  /** WARN_TAINT(): the report, then add_taint(taint) as __warn() does. */
  warnTaint(site: Site, taint: number, text: string): void {
    this.warn(site, text);
    this.tainted |= 1 << taint;
  }

  /** WARN_ONCE(): the call site's static `__warned` flag lets the first one through. */
  warnOnce(site: Site, text: string): void {
    if (this.warned.has(site)) return;
    this.warned.add(site);
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

  /** BUG(): reported, and the call does not return. */
  bug(site: Site, detail: string): never {
    const line = this.reportBug(site);
    throw new KernelBug(`${line} (${site.fn}: ${detail})`);
  }

  /**
   * report_bug() (lib/bug.c) for a BUG: the "cut here" banner at KERN_DEFAULT, then
   * "kernel BUG at <file>:<line>!" ("Kernel BUG at <%pB> [verbose debug info unavailable]"
   * without a file). Returns the BUG line.
   */
  reportBug(site: Site): string {
    this.printk(KERN_WARNING, '------------[ cut here ]------------');
    const line = site.line === null ? `Kernel BUG at ${pS(site)} [verbose debug info unavailable]`
      : `kernel BUG at ${site.file}:${site.line}!`;
    this.printk(KERN_CRIT, line);
    return line;
  }

  /** The log as `dmesg -t` prints it. */
  lines(): string[] {
    return this.records().map((r) => r.text);
  }

  /** The records with their levels (for `dmesg -l`-style filtering). */
  entries(): readonly LogRecord[] {
    return this.records();
  }

  /** The records still in the ring, oldest first. */
  private records(): LogRecord[] {
    const n = Math.min(this.seq, this.levels.length);
    const out: LogRecord[] = new Array<LogRecord>(n);
    for (let i = 0; i < n; i++) {
      const slot = (this.seq - n + i) & (this.levels.length - 1);
      out[i] = { level: this.levels[slot] as number, text: this.texts[slot] as string };
    }
    return out;
  }
}
