// Rule: `nic --api model` is a real driver of the NIC device model: probe, interrupts, NAPI poll,
// refill and TX clean through MMIO. Every frame that arrives is received and verified or counted
// as missed, every frame queued is sent and verified on the wire; a missing sync on a
// non-coherent NIC corrupts frames; the same seed replays the same run.
import { expect, test } from 'vitest';
import { createMachine, type MachineOptions } from '../../src/index.js';
import { runNic, type NicOptions } from '../../src/workloads/nic.js';

async function run(machine: MachineOptions, nic: Partial<NicOptions>) {
  const m = await createMachine({ arch: 'arm64', seed: 2, ...machine });
  return { m, r: runNic(m, { api: 'model', packets: 300, ringSize: 64, ...nic }) };
}

test('every frame is received or missed, every frame sent, all verified; interrupts were taken', async () => {
  for (const mode of ['map', 'recycle'] as const) {
    const { m, r } = await run({}, { mode });
    expect(r.api).toBe('model');
    expect(r.corrupted).toBe(0);
    expect(r.packets + r.rxMissed).toBe(600);
    expect(r.verified).toBe(r.packets);
    expect(m.debugfs.read('/proc/interrupts')).toMatch(/ dmasim_nic\n$/);
  }
});

test('the same seed gives the same run', async () => {
  const a = (await run({}, {})).r;
  const b = (await run({}, {})).r;
  expect({ ...b, wallSeconds: 0, packetsPerSecond: 0 }).toEqual({ ...a, wallSeconds: 0, packetsPerSecond: 0 });
});

test('--bug no-sync-for-cpu corrupts recycled frames on a non-coherent NIC, and not on a coherent one', async () => {
  const sync = (await run({}, { mode: 'recycle', bug: 'no-sync-for-cpu' })).r;
  expect(sync.corrupted).toBeGreaterThan(0);
  expect((await run({}, { mode: 'recycle', bug: 'no-sync-for-cpu', coherent: true })).r.corrupted).toBe(0);
});
