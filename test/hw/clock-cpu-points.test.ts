// Clock.cpuPoints(n), the batched NIC path's CPU-access points, is n cpuPoint() calls in a row:
// the same clock to the last bit (also when the clock holds a fraction no double sums exactly),
// and an event due on the way runs at the same access.
import { expect, test } from 'vitest';
import { Clock } from '../../src/hw/time.js';

/** A clock whose priced work is `work` ns (set by the test), with one event 10 ns ahead recording when it ran. */
function clockAt(work: number): { clock: Clock; ran: number[] } {
  const w = { work };
  const clock = new Clock({ workNs: () => w.work, onEventError: (_n, e) => { throw e; } });
  clock.now(); // samples the work
  const ran: number[] = [];
  clock.addTimer(10, 'probe', () => ran.push(clock.now()));
  return { clock, ran };
}

for (const work of [0, 1_000_000.5, 0.1 + 0.2, 2 ** 45 + 0.25]) {
  test(`cpuPoints(n) is n cpuPoint()s, the clock at ${work} ns`, () => {
    for (const n of [1, 7, 9, 10, 11, 1000]) {
      const a = clockAt(work);
      const b = clockAt(work);
      a.clock.cpuPoints(n);
      for (let i = 0; i < n; i++) b.clock.cpuPoint();
      expect(a.clock.now()).toBe(b.clock.now());
      expect(a.ran).toEqual(b.ran);
      expect(a.clock.pending).toBe(b.clock.pending);
    }
  });
}
