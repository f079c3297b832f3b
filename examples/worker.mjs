// Machines are independent: one per worker thread, each with its own shared memory. The same
// seed gives the same counters in every thread.
import assert from 'node:assert/strict';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { createMachine } from 'dmasim';
import { runNic } from 'dmasim/workloads';

async function job() {
  const m = await createMachine({ seed: 5, load: { evictionPressure: 0.01 } });
  const r = runNic(m, { packets: 500 });
  return { verified: r.verified, dcOps: m.stats().cacheMaintenanceOps };
}

if (isMainThread) {
  const results = await Promise.all([1, 2].map(() => new Promise((resolve, reject) => {
    new Worker(new URL(import.meta.url)).once('message', resolve).once('error', reject);
  })));
  console.log(results);
  assert.deepEqual(results[0], results[1]);
  assert.deepEqual(results[0], await job());
} else {
  parentPort.postMessage(await job());
}
