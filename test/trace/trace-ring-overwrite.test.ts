// The ring buffer in overwrite mode (kernel/trace/ring_buffer.c): buffer_size_kb is per CPU and
// reads back what was written once expanded (tracing_entries_read(): "7 (expanded: 1408)" at
// boot, two pages of BUF_PAGE_SIZE); a full buffer drops its oldest page. The trace header says
// so ("entries-in-buffer/entries-written: kept/total"), and trace_pipe prints
// "CPU:%d [LOST %lu EVENTS]" before the first event after the loss (print_trace_line()).
import { describe, expect, it } from 'vitest';
import { createMachine, dma_map_single, dma_unmap_single, DMA_TO_DEVICE, GFP_KERNEL } from '../../src/index.js';

const T = '/sys/kernel/tracing';

describe('a trace that outgrows its buffer', () => {
  it('keeps the newest events, counts the overwritten ones, and trace_pipe reports the loss', async () => {
    const m = await createMachine({ seed: 6 });
    expect(m.tracefs.read(`${T}/buffer_size_kb`)).toBe('7 (expanded: 1408)\n');
    m.tracefs.write(`${T}/buffer_size_kb`, '8');
    expect(m.tracefs.read(`${T}/buffer_size_kb`)).toBe('8\n');
    m.tracefs.write(`${T}/events/dma/dma_map_phys/enable`, '1');
    const dev = m.createDevice({ name: '0000:04:00.0', driver: 'ovf' });
    const buf = m.kmalloc(64, GFP_KERNEL);
    const N = 1000;
    for (let i = 0; i < N; i++) dma_unmap_single(dev, dma_map_single(dev, buf, 64, DMA_TO_DEVICE), 64, DMA_TO_DEVICE);
    const header = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(m.tracefs.read(`${T}/trace`));
    const kept = Number(header?.[1]);
    expect(Number(header?.[2])).toBe(N);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(N);
    const pipe = m.tracefs.read(`${T}/trace_pipe`).split('\n').filter((l) => l !== '');
    expect(pipe[0]).toBe(`CPU:0 [LOST ${N - kept} EVENTS]`);
    expect(pipe.slice(1)).toHaveLength(kept);
    expect(m.tracefs.read(`${T}/trace_pipe`)).toBe('');
    expect(m.tracefs.read(`${T}/trace`)).toContain('entries-in-buffer/entries-written: 0/');
  });
});
