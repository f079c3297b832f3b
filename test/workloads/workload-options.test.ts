// The exported workloads check their options with one validator (src/workloads/options.ts, which
// the CLI shares) before they touch the machine (issue 13, item 13): a DmaSimError naming the
// workload function and the option, and the machine unchanged. What the driver's probe cannot
// get from the machine (DMA it cannot do for the device, memory) is a DmaSimError too, naming
// runNic and the machine, never a plain Error.
import { describe, expect, test } from 'vitest';
import { createMachine, DmaSimError, DmaSimRangeError, DmaSimTypeError } from '../../src/index.js';
import { runBarrierSweep, runDmapoolTest, runNic } from '../../src/workloads/index.js';
import { refused } from '../support/refused.js';

describe('workload options no caller could mean', () => {
  test('runNic: sizes, counts, names and types', async () => {
    const m = await createMachine();
    const bad: [object, string, { [Symbol.hasInstance](x: unknown): boolean }][] = [
      [{ packetSize: 1.5 }, 'packetSize', DmaSimRangeError],
      [{ packetSize: 0 }, 'packetSize', DmaSimRangeError],
      [{ packetSize: 20000 }, 'packetSize', DmaSimRangeError],
      [{ ringSize: 0 }, 'ringSize', DmaSimRangeError],
      [{ dmaBits: 8 }, 'dmaBits', DmaSimRangeError],
      [{ packets: -1 }, 'packets', DmaSimRangeError],
      [{ packets: '10' }, 'packets', DmaSimTypeError],
      [{ packets: Infinity }, 'packets', DmaSimRangeError],
      [{ bug: 'x' }, 'bug', DmaSimRangeError],
      [{ api: 5 }, 'api', DmaSimTypeError],
      [{ bogus: 1 }, 'options.bogus', DmaSimRangeError],
    ];
    for (const [opts, arg, cls] of bad) refused(m, () => runNic(m, opts as never), 'runNic', arg, cls);
    refused(m, () => runNic(null as never), 'runNic', 'm', DmaSimTypeError);
  });

  test('runDmapoolTest: iterations that would never end', async () => {
    const m = await createMachine();
    for (const iterations of [2 ** 53, 0, 1.5]) {
      const err = await runDmapoolTest(m, { iterations }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DmaSimRangeError);
      expect((err as Error).message).toMatch(/^runDmapoolTest: iterations/);
    }
    expect(m.dmesg().some((l) => l.includes('dmapool'))).toBe(false);
  });

  test('runBarrierSweep: a DmaSimError, not a plain RangeError', async () => {
    for (const [opts, arg] of [[{ entries: [] }, 'entries'], [{ dir: 3 }, 'dir'], [{ op: 'remap' }, 'op'], [{ repetitions: 0 }, 'repetitions']] as const) {
      const err = await runBarrierSweep(opts as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DmaSimError);
      expect((err as Error).message).toMatch(new RegExp(`^runBarrierSweep: ${arg}`));
    }
  });

  test('a probe the machine cannot satisfy: a DmaSimError naming runNic', async () => {
    const m = await createMachine({ ram: [{ base: 0x4000_0000, size: 16 << 20 }] });
    const err = (() => { try { return runNic(m, { ringSize: 4096, packetSize: 9000, packets: 1 }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DmaSimRangeError);
    expect((err as Error).message).toMatch(/^runNic: m cannot run dmasim_nic: .* failed/);
  });
});
