// dmasim/workloads drives a NIC driver on a machine you configure: here one that forgets
// dma_sync_single_for_cpu() on recycled RX buffers, under eviction pressure, with dma-debug on.
import assert from 'node:assert/strict';
import { createMachine } from 'dmasim';
import { runNic } from 'dmasim/workloads';

const m = await createMachine({ seed: 7, config: { DMA_API_DEBUG: true }, load: { evictionPressure: 0.05 } });
const report = runNic(m, { packets: 2000, mode: 'recycle', bug: 'no-sync-for-cpu' });
console.log(`${report.verified} packets verified, ${report.corrupted} corrupted; ${m.stats().cacheMaintenanceOps} DC operations`);
assert.equal(report.verified + report.corrupted, report.packets);
assert.ok(report.corrupted > 0, 'the missing sync corrupts packets');

const good = runNic(await createMachine({ seed: 7, config: { DMA_API_DEBUG: true } }), { packets: 2000, mode: 'recycle' });
assert.equal(good.corrupted, 0);
assert.equal(good.debugErrors, 0);
