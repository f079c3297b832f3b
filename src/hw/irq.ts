// Interrupts: the generic IRQ layer as a driver sees it (kernel/irq/manage.c request_irq(),
// free_irq(), disable_irq(), enable_irq(); kernel/irq/chip.c handle_fasteoi_irq();
// include/linux/irqflags.h local_irq_save()/local_irq_restore()) and /proc/interrupts
// (kernel/irq/proc.c show_interrupts()), over one CPU and one GICv3.
//
// A device model raises its line; the handlers run at the next interleaving point (hw/time.ts)
// unless the line is disabled or the CPU has interrupts masked. A line raised while disabled, or
// with no handler, is counted and left pending (IRQS_PENDING) and is delivered again when the
// line is enabled (check_irq_resend()). A handler that throws is reported with the IRQ and the
// device, as an oops would be, and the machine keeps running.

import { DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';
import type { Site } from '../lib/printk.js';
import { WARN_SITES } from '../lib/warn-sites.js';
import type { TimerEvent } from './time.js';

/** enum irqreturn, include/linux/irqreturn.h. */
export const IRQ_NONE = 0;
export const IRQ_HANDLED = 1;
export const IRQ_WAKE_THREAD = 2;
/** IRQF_SHARED, include/linux/interrupt.h. */
export const IRQF_SHARED = 0x00000080;

const EINVAL = 22;
const EBUSY = 16;
/** The first Linux IRQ number handed to a device's GIC SPI (the GIC's SGIs and PPIs come first). */
const FIRST_DEVICE_IRQ = 16;
/** GIC SPIs start at hwirq 32. */
const FIRST_SPI = 32;

export type IrqHandler = (irq: number, devId: unknown) => number | void;

/** struct irqaction */
interface IrqAction {
  readonly handler: IrqHandler;
  readonly name: string;
  readonly devId: unknown;
  readonly flags: number;
}

/** struct irq_desc for one line. */
interface IrqDesc {
  readonly irq: number;
  readonly hwirq: number;
  /** Who owns the line (the device model's name), for reports. */
  readonly owner: string;
  actions: IrqAction[];
  /** disable_irq() nesting: the line is masked while > 0. */
  depth: number;
  /** IRQS_PENDING: raised while masked or without a handler. */
  pending: boolean;
  /** mask_irq() by the flow handler: a pending hit was counted, the GIC holds it until resent. */
  chipMasked: boolean;
  /** kstat_irqs for the one CPU. */
  count: number;
}

/** What the interrupt layer needs from the machine. */
export interface IrqDeps {
  /** The clock's re-armable events: delivery is one event, armed at 0 ns (the next interleaving point). */
  clock: { timer(name: string, cb: () => void): TimerEvent; arm(ev: TimerEvent, delayNs: number): void };
  warn(site: Site, text: string): void;
  onHandlerError(name: string, err: unknown): void;
}

export class IrqChip {
  private readonly descs = new Map<number, IrqDesc>();
  /** The same descs in IRQ order, for the acknowledge loop (no iterator per delivery). */
  private readonly lines: IrqDesc[] = [];
  private nextIrq = FIRST_DEVICE_IRQ;
  /** The CPU's interrupt mask (PSTATE.I): set by local_irq_save(). */
  private masked = false;
  /** A raise waits for the CPU to unmask. */
  private cpuPending = false;
  /** A delivery is queued on the clock. */
  private queued = false;
  private readonly delivery: TimerEvent;

  constructor(private readonly deps: IrqDeps) {
    this.delivery = deps.clock.timer('irq', () => this.deliver());
  }

  /** A device gets a line (irq_create_mapping() of its GIC SPI): returns the Linux IRQ number. */
  allocate(owner: string): number {
    const irq = this.nextIrq++;
    const d: IrqDesc = { irq, hwirq: irq - FIRST_DEVICE_IRQ + FIRST_SPI, owner, actions: [], depth: 0, pending: false, chipMasked: false, count: 0 };
    this.descs.set(irq, d);
    this.lines.push(d);
    return irq;
  }

  private desc(fn: string, irq: unknown): IrqDesc | undefined {
    if (typeof irq !== 'number' || !Number.isInteger(irq)) throw new DmaSimTypeError(fn, 'irq', `must be an integer IRQ number, got ${String(irq)}`);
    return this.descs.get(irq);
  }

  /**
   * request_irq(): -EINVAL for a line no device has or a missing handler; -EBUSY when the line
   * is taken and either side did not ask for IRQF_SHARED. A line left pending is delivered now.
   */
  request_irq(irq: number, handler: IrqHandler, name: string, devId: unknown, flags: number): number {
    const d = this.desc('request_irq', irq);
    if (typeof name !== 'string') throw new DmaSimTypeError('request_irq', 'name', 'must be a string');
    if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0) throw new DmaSimTypeError('request_irq', 'flags', `must be IRQF_* bits, got ${String(flags)}`);
    if (d === undefined || typeof handler !== 'function') return -EINVAL;
    if ((flags & IRQF_SHARED) && (devId === undefined || devId === null)) return -EINVAL;
    // __setup_irq(): sharing needs IRQF_SHARED on both the old and the new action.
    if (d.actions.length > 0 && !((d.actions[0] as IrqAction).flags & flags & IRQF_SHARED)) return -EBUSY;
    // Copy on write: a delivery walks the list it started with, as handlers may free or add.
    d.actions = [...d.actions, { handler, name, devId, flags }];
    if (d.pending) this.kick();
    return 0;
  }

  /** free_irq(): returns the devname, or null with the kernel's WARN for a line not requested. */
  free_irq(irq: number, devId: unknown): string | null {
    const d = this.desc('free_irq', irq);
    const i = d === undefined ? -1 : d.actions.findIndex((a) => a.devId === devId);
    if (d === undefined || i < 0) {
      this.deps.warn(WARN_SITES.freeIrqTwice, `Trying to free already-free IRQ ${String(irq)}`);
      return null;
    }
    const a = d.actions[i] as IrqAction;
    d.actions = d.actions.filter((_, k) => k !== i);
    return a.name;
  }

  /** disable_irq(): masks the line (nesting); a handler running now has finished (one CPU). */
  disable_irq(irq: number): void {
    const d = this.desc('disable_irq', irq);
    if (d !== undefined) d.depth++;
  }

  /** enable_irq(): unbalanced enables WARN; a line that went pending meanwhile is resent. */
  enable_irq(irq: number): void {
    const d = this.desc('enable_irq', irq);
    if (d === undefined) return;
    if (d.depth === 0) {
      this.deps.warn(WARN_SITES.enableIrqUnbalanced, `Unbalanced enable for IRQ ${irq}`);
      return;
    }
    if (--d.depth === 0 && d.pending) this.kick();
  }

  /** local_irq_save(): the previous mask state, as flags. */
  local_irq_save(): number {
    const flags = this.masked ? 1 : 0;
    this.masked = true;
    return flags;
  }

  /** local_irq_restore(): unmasking takes what was raised meanwhile at the next point. */
  local_irq_restore(flags: number): void {
    if (flags !== 0 && flags !== 1) throw new DmaSimRangeError('local_irq_restore', 'flags', `must come from local_irq_save(), got ${String(flags)}`);
    this.masked = flags === 1;
    if (!this.masked && this.cpuPending) this.kick();
  }

  irqs_disabled(): boolean {
    return this.masked;
  }

  /** A device asserts its line. */
  raise(irq: number): void {
    const d = this.descs.get(irq);
    if (d === undefined) return;
    d.pending = true;
    this.kick();
  }

  private kick(): void {
    if (this.queued) return;
    this.queued = true;
    this.deps.clock.arm(this.delivery, 0);
  }

  /** The GIC's acknowledge loop: every pending, enabled line with a handler, lowest first. */
  private deliver(): void {
    this.queued = false;
    if (this.masked) {
      this.cpuPending = true;
      return;
    }
    this.cpuPending = false;
    const lines = this.lines;
    for (let i = 0; i < lines.length; i++) {
      const d = lines[i] as IrqDesc;
      if (d.pending) this.handle_fasteoi_irq(d);
    }
  }

  /**
   * handle_fasteoi_irq(): counted, then each action (a shared line runs every handler). A line
   * that is disabled or has no handler is counted once, masked and left pending.
   */
  private handle_fasteoi_irq(d: IrqDesc): void {
    if (d.depth > 0 || d.actions.length === 0) {
      if (!d.chipMasked) d.count++;
      d.chipMasked = true;
      return;
    }
    d.count++;
    d.chipMasked = false;
    d.pending = false;
    const actions = d.actions;
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i] as IrqAction;
      try {
        a.handler(d.irq, a.devId);
      } catch (err) {
        this.deps.onHandlerError(`irq ${d.irq} (${a.name}, ${d.owner})`, err);
      }
    }
  }

  /** /proc/interrupts as kernel/irq/proc.c show_interrupts() prints it for one CPU on a GICv3. */
  show_interrupts(): string {
    let prec = 3;
    for (let j = 1000; prec < 10 && j <= this.nextIrq; prec++) j *= 10;
    let out = `${' '.repeat(prec + 8)}${'CPU0'.padEnd(11)}\n`;
    for (const d of this.descs.values()) {
      if (d.actions.length === 0 && d.count === 0) continue;
      out += `${String(d.irq).padStart(prec)}: ${String(d.count).padStart(10)}  ${'GICv3'.padStart(8)} ${String(d.hwirq).padStart(prec)} ${'Level'.padEnd(8)}`;
      if (d.actions.length > 0) out += `  ${d.actions.map((a) => a.name).join(', ')}`;
      out += '\n';
    }
    return out;
  }
}
