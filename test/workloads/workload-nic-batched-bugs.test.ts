// Injected driver bugs do on the batched path exactly what they do per call: a missing sync
// corrupts the same packets on non-coherent arm64 (and leaves the same machine state behind),
// including under eviction pressure on a small cache.
import { expect, test } from 'vitest';
import { BATCHED_DSB, LOAD, runBoth, SMALL_CACHE } from '../support/workload-nic-batched-helpers.js';

test('no-sync-for-cpu corrupts received packets on non-coherent arm64', async () => {
  const { batched } = await runBoth({ load: LOAD }, { mode: 'recycle', bug: 'no-sync-for-cpu' });
  expect(batched.corrupted).toBeGreaterThan(300);
});

test('no-sync-for-device corrupts transmitted packets on non-coherent arm64', async () => {
  const { batched } = await runBoth(BATCHED_DSB, { mode: 'recycle', bug: 'no-sync-for-device' });
  expect(batched.corrupted).toBeGreaterThan(300);
});

test('no-dma-wmb without store reordering changes only the barrier count', async () => {
  const { batched, perCall } = await runBoth(BATCHED_DSB, { bug: 'no-dma-wmb' });
  expect(batched.corrupted).toBe(0);
  expect(perCall.corrupted).toBe(0);
});

test('the same bugs on a small cache under pressure', async () => {
  const a = await runBoth({ cache: SMALL_CACHE, load: LOAD }, { bug: 'no-sync-for-cpu', packetSize: 1000 });
  expect(a.batched.corrupted).toBe(0); // map/unmap per packet syncs anyway
  const b = await runBoth({ cache: SMALL_CACHE, load: LOAD }, { mode: 'recycle', bug: 'no-sync-for-device', packetSize: 1000 });
  expect(b.batched.corrupted).toBeGreaterThan(0);
});

test('the bugs are harmless on coherent x86_64, on both paths alike', async () => {
  const { batched } = await runBoth({ arch: 'x86_64', load: LOAD }, { mode: 'recycle', bug: 'no-sync-for-cpu' });
  expect(batched.corrupted).toBe(0);
});
