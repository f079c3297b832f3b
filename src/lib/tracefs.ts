// The top-level trace instance (struct trace_array) and its tracefs files under
// /sys/kernel/tracing, following kernel/trace/trace.c, trace_events.c and trace_output.c (v7.1):
// trace (the nop tracer's header, then one line per event as trace_print_context() prints it),
// trace_pipe (a consuming read that reports lost events), tracing_on, buffer_size_kb,
// trace_marker, and each event system's events/<system>/enable and events/<system>/<event>/enable.
// Events are kept raw in the ring buffer and formatted when read, as the kernel does.

import { fsError, kstrtoul10, type Debugfs } from './debugfs.js';
import { RingBufferPerCpu } from './ring_buffer.js';

export const TRACEFS = '/sys/kernel/tracing';

/** TRACE_BUF_SIZE_DEFAULT: the per-CPU size the buffer is expanded to on first use (1408 KiB). */
const TRACE_BUF_SIZE_DEFAULT = 1441792;
/** The size of the unexpanded buffer at boot (rb_allocate_pages keeps two pages). */
const TRACE_BUF_SIZE_BOOT = 1;
/** sizeof(struct trace_entry): type, flags, preempt_count, pid. */
export const TRACE_ENTRY_SIZE = 8;
/** TRACE_MARKER_MAX_SIZE: longer trace_marker writes are cut. */
const TRACE_MARKER_MAX_SIZE = 4096;

/** One TRACE_EVENT: its system and name, its TP_printk, and the bytes its entry takes. */
export interface TraceEventClass<A> {
  readonly system: string;
  readonly name: string;
  /** TP_printk() of the recorded fields. */
  print(args: A): string;
  /** sizeof the TP_STRUCT__entry plus its dynamic arrays and strings. */
  size(args: A): number;
}

/** struct trace_event_file: what the tracepoint checks before recording. */
export interface TraceEventFile<A> {
  readonly event: TraceEventClass<A>;
  enabled: boolean;
}

/** What the trace instance needs from the machine: the clock, the CPUs, the running task. */
export interface TraceDeps {
  /** The trace clock, in ns (the machine's simulated clock). */
  now(): number;
  readonly nrCpus: number;
  /** The current task's comm and pid, as trace_find_cmdline() resolves them. */
  readonly comm: string;
  readonly pid: number;
  /** Called when an event is enabled or disabled, so the hook layer can switch on or off. */
  onEnableChange(): void;
}

/**
 * A ring-buffer entry: the event and its recorded fields, kept raw and printed only when the
 * buffer is read (as the kernel's entries hold binary fields that print_fmt formats at read);
 * a trace_marker write has no event and keeps its text.
 */
interface Entry {
  readonly event: TraceEventClass<never> | null;
  readonly args: unknown;
  readonly pid: number;
}

export class TraceArray {
  private readonly cpus: RingBufferPerCpu<Entry>[];
  private readonly files: TraceEventFile<never>[] = [];
  /** tracing_on: recording into the buffer (tracer_tracing_is_on()). */
  private on = true;
  /** ring_buffer_expanded: the buffer is grown to its real size at first use. */
  private expanded = false;
  /** trace_array_cpu->entries: the size last asked for, which buffer_size_kb shows. */
  private entries: number;

  constructor(private readonly fs: Debugfs, private readonly deps: TraceDeps) {
    this.cpus = Array.from({ length: deps.nrCpus }, () => new RingBufferPerCpu<Entry>(TRACE_BUF_SIZE_BOOT));
    this.entries = this.cpus[0]?.size() ?? 0;
    this.createFiles();
  }

  /** trace_add_event_call(): the event's directory and enable file, and its system's. */
  addEvent<A>(event: TraceEventClass<A>): TraceEventFile<A> {
    const file: TraceEventFile<A> = { event, enabled: false };
    this.files.push(file as TraceEventFile<never>);
    const dir = `${TRACEFS}/events/${event.system}`;
    this.fs.create(`${dir}/${event.name}/enable`, {
      read: () => (file.enabled ? '1\n' : '0\n'),
      write: (text) => this.setEnabled([file], boolean01(text)),
    });
    this.fs.create(`${dir}/enable`, this.systemEnable((f) => f.event.system === event.system));
    return file;
  }

  /** Whether any event is enabled: the hook layer is off otherwise. */
  anyEnabled(): boolean {
    return this.files.some((f) => f.enabled);
  }

  /** trace_event_buffer_commit(): the entry goes in unless tracing_on is 0. */
  record<A>(file: TraceEventFile<A>, args: A, cpu = 0): void {
    if (!this.on) return;
    this.write(cpu, file.event as TraceEventClass<never>, args, TRACE_ENTRY_SIZE + file.event.size(args));
  }

  private write(cpu: number, event: TraceEventClass<never> | null, args: unknown, size: number): void {
    this.cpus[cpu]?.write(this.deps.now(), { event, args, pid: this.deps.pid }, size);
  }

  /** events/<system>/enable and events/enable: "0", "1", or "X" when mixed (system_enable_read). */
  private systemEnable(inSystem: (f: TraceEventFile<never>) => boolean): { read(): string; write(text: string): void } {
    return {
      read: () => {
        const set = this.files.filter(inSystem).map((f) => f.enabled);
        return set.every((e) => e) && set.length > 0 ? '1\n' : set.some((e) => e) ? 'X\n' : '0\n';
      },
      write: (text) => this.setEnabled(this.files.filter(inSystem), boolean01(text)),
    };
  }

  /** ftrace_event_enable_disable(); enabling expands the buffer (tracing_update_buffers()). */
  private setEnabled(files: TraceEventFile<never>[], on: boolean): void {
    if (on) this.expand();
    for (const f of files) f.enabled = on;
    this.deps.onEnableChange();
  }

  private expand(): void {
    if (this.expanded) return;
    this.resize(TRACE_BUF_SIZE_DEFAULT);
  }

  private resize(size: number): void {
    for (const c of this.cpus) c.resize(size);
    this.entries = size;
    this.expanded = true;
  }

  private createFiles(): void {
    const fs = this.fs;
    fs.create(`${TRACEFS}/trace`, { read: () => this.readTrace(), write: () => this.reset() });
    fs.create(`${TRACEFS}/trace_pipe`, { read: () => this.readPipe() });
    fs.create(`${TRACEFS}/tracing_on`, {
      read: () => (this.on ? '1\n' : '0\n'),
      write: (text) => { this.on = kstrtoul10(text) !== 0n; },
    });
    fs.create(`${TRACEFS}/buffer_size_kb`, { read: () => this.readBufferSize(), write: (text) => this.writeBufferSize(text) });
    fs.create(`${TRACEFS}/trace_marker`, { read: () => { throw fsError('EINVAL'); }, write: (text) => this.mark(text) });
    fs.create(`${TRACEFS}/events/enable`, this.systemEnable(() => true));
  }

  /** tracing_entries_read(): the size asked for, "(expanded: ...)" until the first expansion. */
  private readBufferSize(): string {
    const kb = Math.floor(this.entries / 1024);
    return this.expanded ? `${kb}\n` : `${kb} (expanded: ${TRACE_BUF_SIZE_DEFAULT >> 10})\n`;
  }

  /** tracing_entries_write(): KiB per CPU; 0 is -EINVAL. */
  private writeBufferSize(text: string): void {
    const kb = kstrtoul10(text);
    if (kb === 0n) throw fsError('EINVAL');
    this.resize(Number(kb) * 1024);
  }

  /** tracing_mark_write(): a print entry from tracing_mark_write, newline-terminated. */
  private mark(text: string): void {
    if (!this.on) throw fsError('EBADF'); // the ring buffer refuses the reservation
    let buf = text.length > TRACE_MARKER_MAX_SIZE ? text.slice(0, TRACE_MARKER_MAX_SIZE) : text;
    if (!buf.endsWith('\n')) buf += '\n';
    // struct print_entry: the trace_entry, the caller's ip, then the string and its NUL.
    this.write(0, null, buf, TRACE_ENTRY_SIZE + 8 + buf.length + 1);
  }

  /** Opening trace with O_TRUNC (echo > trace) empties every CPU's buffer. */
  private reset(): void {
    for (const c of this.cpus) c.reset();
  }

  /** s_show() for the nop tracer: "# tracer: nop", the header, then every entry. */
  private readTrace(): string {
    let entries = 0;
    let total = 0;
    for (const c of this.cpus) {
      const e = c.entries();
      entries += e;
      total += e + c.overrun;
    }
    const out = ['# tracer: nop\n#\n', helpHeaderIrq(entries, total, this.deps.nrCpus)];
    const all = this.cpus.flatMap((c, cpu) => [...c.iterate()].map((ev) => ({ ev, cpu })));
    all.sort((a, b) => a.ev.ts - b.ev.ts);
    for (const { ev, cpu } of all) out.push(this.line(cpu, ev.ts, ev.data));
    return out.join('');
  }

  /** tracing_read_pipe(): consumes what is there, with a line for each run of lost events. */
  private readPipe(): string {
    const out: string[] = [];
    this.cpus.forEach((c, cpu) => {
      for (let r = c.consume(); r !== null; r = c.consume()) {
        if (r.lost > 0) out.push(`CPU:${cpu} [LOST ${r.lost} EVENTS]\n`);
        out.push(this.line(cpu, r.event.ts, r.event.data));
      }
    });
    return out.join('');
  }

  /** trace_print_context() with irq-info, then the event's own output. */
  private line(cpu: number, ts: number, e: Entry): string {
    const usecs = Math.floor(ts / 1000);
    const secs = Math.floor(usecs / 1_000_000);
    const rem = String(usecs % 1_000_000).padStart(6, '0');
    return `${this.deps.comm.padStart(16)}-${String(e.pid).padEnd(7)} [${String(cpu).padStart(3, '0')}] ..... ${String(secs).padStart(5)}.${rem}: ${body(e)}`;
  }
}

/** The event's name and TP_printk output, or the marker's text (print_entry's). */
function body(e: Entry): string {
  return e.event === null ? `tracing_mark_write: ${e.args as string}` : `${e.event.name}: ${e.event.print(e.args as never)}\n`;
}

/** event_enable_write() and system_enable_write(): a decimal 0 or 1, anything else -EINVAL. */
function boolean01(text: string): boolean {
  const v = kstrtoul10(text);
  if (v !== 0n && v !== 1n) throw fsError('EINVAL');
  return v === 1n;
}

/**
 * print_event_info() + print_func_help_header_irq() with the TGID column off: its "%.*s" takes
 * two characters (prec = 2) of each padding string.
 */
function helpHeaderIrq(entries: number, total: number, nrCpus: number): string {
  const pad = `#${' '.repeat(28)}  `;
  return [
    `# entries-in-buffer/entries-written: ${entries}/${total}   #P:${nrCpus}`,
    '#',
    `${pad}  _-----=> irqs-off/BH-disabled`,
    `${pad} / _----=> need-resched`,
    `${pad}| / _---=> hardirq/softirq`,
    `${pad}|| / _--=> preempt-depth`,
    `${pad}||| / _-=> migrate-disable`,
    `${pad}|||| /     delay`,
    `#${' '.repeat(11)}TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION`,
    `#${' '.repeat(14)}| |         |   |||||     |         |`,
    '',
  ].join('\n');
}
