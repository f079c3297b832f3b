// Writes tracefs rejects, with the errno write(2) returns, and nothing changed:
// event_enable_write()/system_enable_write() (kernel/trace/trace_events.c): kstrtoul_from_user
// base 10, then only 0 or 1 (-EINVAL); tracing_entries_write() (kernel/trace/trace.c): 0 KiB is
// -EINVAL; a path with no event is -ENOENT; trace_marker with tracing_on at 0 is -EBADF (the ring
// buffer refuses the reservation in tracing_mark_write()).
import { describe, expect, it } from 'vitest';
import { debugfsErrno as errno } from '../support/helpers.js';
import { createMachine } from '../../src/index.js';

const T = '/sys/kernel/tracing';

describe('rejected tracefs writes', () => {
  it('give the kernel errno and change nothing', async () => {
    const m = await createMachine({ seed: 2 });
    const before = ['events/dma/enable', 'events/dma/dma_map_phys/enable', 'buffer_size_kb', 'tracing_on'].map((f) => m.tracefs.read(`${T}/${f}`));
    expect(errno(() => m.tracefs.write(`${T}/events/dma/dma_map_page/enable`, '1'))).toBe('ENOENT');
    expect(errno(() => m.tracefs.write(`${T}/events/dma/dma_map_phys/enable`, '2'))).toBe('EINVAL');
    expect(errno(() => m.tracefs.write(`${T}/events/dma/dma_map_phys/enable`, 'yes'))).toBe('EINVAL');
    expect(errno(() => m.tracefs.write(`${T}/events/dma/enable`, '0x1'))).toBe('EINVAL');
    expect(errno(() => m.tracefs.write(`${T}/buffer_size_kb`, '0'))).toBe('EINVAL');
    expect(errno(() => m.tracefs.write(`${T}/buffer_size_kb`, '99999999999999999999999'))).toBe('ERANGE');
    expect(['events/dma/enable', 'events/dma/dma_map_phys/enable', 'buffer_size_kb', 'tracing_on'].map((f) => m.tracefs.read(`${T}/${f}`))).toEqual(before);
    expect(m.dmaTrace).toBeNull();
  });

  it('trace_marker refuses writes while tracing_on is 0', async () => {
    const m = await createMachine({ seed: 2 });
    m.tracefs.write(`${T}/tracing_on`, '0');
    expect(errno(() => m.tracefs.write(`${T}/trace_marker`, 'x'))).toBe('EBADF');
    m.tracefs.write(`${T}/tracing_on`, '1');
    m.tracefs.write(`${T}/trace_marker`, 'x');
    expect(m.tracefs.read(`${T}/trace`)).toContain('tracing_mark_write: x\n');
  });
});
