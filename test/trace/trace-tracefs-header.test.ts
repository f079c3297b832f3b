// /sys/kernel/tracing/trace for the nop tracer (kernel/trace/trace.c s_show(),
// print_event_info() and print_func_help_header_irq(), irq-info on, TGID off) and one event line
// as trace_print_context() prints it: "%16s-%-7d [%03d] " comm-pid and CPU, the latency flags,
// " %5lu.%06lu: " the timestamp, then "name: " and the TP_printk output.
import { describe, expect, it } from 'vitest';
import { createMachine } from '../../src/index.js';

const T = '/sys/kernel/tracing';

const HEADER = [
  '# tracer: nop',
  '#',
  '# entries-in-buffer/entries-written: 1/1   #P:1',
  '#',
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
];

describe('the trace file', () => {
  it('has the nop tracer header and the kernel columns; trace_marker writes appear as tracing_mark_write', async () => {
    const m = await createMachine({ seed: 1 });
    m.tracefs.write(`${T}/trace_marker`, 'hello from the driver');
    const lines = m.tracefs.read(`${T}/trace`).split('\n');
    expect(lines.slice(0, HEADER.length)).toEqual(HEADER);
    expect(lines[HEADER.length]).toMatch(/^ {10}dmasim-1 {7}\[000\] \.\.\.\.\. {5}\d\.\d{6}: tracing_mark_write: hello from the driver$/);
    expect(lines.slice(HEADER.length + 1)).toEqual(['']);
  });

  it('lists the dma and swiotlb event systems with the events of dma.h and swiotlb.h', async () => {
    const m = await createMachine({ seed: 1 });
    expect(m.tracefs.list(`${T}/events`)).toEqual(['dma', 'enable', 'swiotlb']);
    expect(m.tracefs.list(`${T}/events/dma`)).toEqual([
      'dma_alloc', 'dma_alloc_pages', 'dma_alloc_sgt', 'dma_alloc_sgt_err', 'dma_free', 'dma_free_pages', 'dma_free_sgt',
      'dma_map_phys', 'dma_map_sg', 'dma_map_sg_err', 'dma_sync_sg_for_cpu', 'dma_sync_sg_for_device',
      'dma_sync_single_for_cpu', 'dma_sync_single_for_device', 'dma_unmap_phys', 'dma_unmap_sg', 'enable',
    ]);
    expect(m.tracefs.list(`${T}/events/swiotlb`)).toEqual(['enable', 'swiotlb_bounced']);
  });

  it('system enable reads 0, X when mixed, 1 when all are on (system_enable_read())', async () => {
    const m = await createMachine({ seed: 1 });
    expect(m.tracefs.read(`${T}/events/dma/enable`)).toBe('0\n');
    m.tracefs.write(`${T}/events/dma/dma_map_phys/enable`, '1\n');
    expect(m.tracefs.read(`${T}/events/dma/enable`)).toBe('X\n');
    expect(m.tracefs.read(`${T}/events/dma/dma_map_phys/enable`)).toBe('1\n');
    m.tracefs.write(`${T}/events/dma/enable`, '1');
    expect(m.tracefs.read(`${T}/events/dma/enable`)).toBe('1\n');
    expect(m.tracefs.read(`${T}/events/enable`)).toBe('X\n');
  });
});
