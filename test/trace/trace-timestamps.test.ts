// Trace timestamps come from the machine's simulated clock (m.now(), ns), printed as
// trace_print_time() does: " %5lu.%06lu" seconds and microseconds (ns2usecs(), truncated).
import { describe, expect, it } from 'vitest';
import { createMachine } from '../../src/index.js';

const T = '/sys/kernel/tracing';

function stamps(text: string): number[] {
  return [...text.matchAll(/ (\d+)\.(\d{6}): tracing_mark_write/g)].map((x) => Number(x[1]) * 1e6 + Number(x[2]));
}

describe('trace timestamps', () => {
  it('are the simulated clock at the moment of the event, in microseconds', async () => {
    const m = await createMachine({ seed: 8 });
    m.msleep(1500);
    const t0 = m.now();
    m.tracefs.write(`${T}/trace_marker`, 'a');
    m.udelay(250);
    const t1 = m.now();
    m.tracefs.write(`${T}/trace_marker`, 'b');
    const [a, b] = stamps(m.tracefs.read(`${T}/trace`));
    expect(a).toBe(Math.floor(t0 / 1000));
    expect(b).toBe(Math.floor(t1 / 1000));
    expect(m.tracefs.read(`${T}/trace`)).toContain(`    1.${String(Math.floor(t0 / 1000) % 1e6).padStart(6, '0')}: tracing_mark_write: a`);
  });
});
