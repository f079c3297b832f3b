// Device models (issue 14): the NIC workload through its device model, per call (every register
// access, interrupt and DMA API call from JavaScript), arm64 non-coherent 64 B, in Mpps and in
// empty JS->WASM calls per packet; and the cost of an idle interleaving point (the clock check a
// CPU access makes when no timer is due) in empty calls, beside the same CPU access with no
// timer pending at all. Every figure is a ratio to the empty call measured in the same run.

import { createMachine, GFP_KERNEL } from '../src/index.js';
import { runNic } from '../src/workloads/nic.js';
import { measure, report, type Row } from './util.js';

const rows: Row[] = [];
const probe = await createMachine();
const CALLS = 20_000;
const base = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) probe.core.noop(); } }]);
const callNs = base.get('noop') ?? NaN;
rows.push({ suite: 'devices', name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

// The idle interleaving point: the clock's cpuPoint() alone, with a timer pending far away (so
// the compare is made and fails), against a loop of nothing.
const idle = await createMachine({ seed: 1 });
idle.schedule(1e15, () => {});
const clock = idle.clock;
const POINTS = 200_000;
const pt = await measure([
  { name: 'point', ops: POINTS, fn: () => { for (let i = 0; i < POINTS; i++) clock.cpuPoint(); } },
  { name: 'dma point', ops: POINTS, fn: () => { for (let i = 0; i < POINTS; i++) clock.point(); } },
]);
rows.push({ suite: 'devices', name: 'idle interleaving point (CPU access)', value: pt.get('point') ?? NaN, unit: 'ns', ratio: (pt.get('point') ?? NaN) / callNs, baseline: 'empty calls', goal: '<= 2 empty calls' });
rows.push({ suite: 'devices', name: 'idle interleaving point (DMA API, MMIO)', value: pt.get('dma point') ?? NaN, unit: 'ns', ratio: (pt.get('dma point') ?? NaN) / callNs, baseline: 'empty calls' });

// A cached 4-byte CPU load with and without a timer pending: what the point adds to an access.
const quiet = await createMachine({ seed: 1 });
const busy = await createMachine({ seed: 1 });
busy.schedule(1e15, () => {});
const qp = quiet.kmalloc(64, GFP_KERNEL);
const bp = busy.kmalloc(64, GFP_KERNEL);
const LOADS = 100_000;
const ld = await measure([
  { name: 'quiet', ops: LOADS, fn: () => { for (let i = 0; i < LOADS; i++) quiet.cpu.readl(qp); } },
  { name: 'busy', ops: LOADS, fn: () => { for (let i = 0; i < LOADS; i++) busy.cpu.readl(bp); } },
]);
rows.push({ suite: 'devices', name: 'cpu.readl, no timer pending', value: ld.get('quiet') ?? NaN, unit: 'ns', ratio: (ld.get('quiet') ?? NaN) / callNs, baseline: 'empty calls' });
rows.push({ suite: 'devices', name: 'cpu.readl, a timer pending', value: ld.get('busy') ?? NaN, unit: 'ns', ratio: (ld.get('busy') ?? NaN) / callNs, baseline: 'empty calls' });

// The NIC through its model, beside the by-hand per-call path of the same packets: warm up,
// then three timed runs each on a fresh machine, alternating, and the median of each.
const PACKETS = 50_000;
const NIC_MACHINE = { seed: 1, config: { ARCH_HAS_BATCHED_DMA_SYNC: true } } as const;
runNic(await createMachine(NIC_MACHINE), { api: 'model', packets: PACKETS / 10, packetSize: 64 });
runNic(await createMachine(NIC_MACHINE), { api: 'per-call', packets: PACKETS / 10, packetSize: 64 });
const modelNs: number[] = [];
const byHandNs: number[] = [];
let r = runNic(await createMachine(NIC_MACHINE), { api: 'model', packets: PACKETS, packetSize: 64 });
for (let k = 0; k < 3; k++) {
  r = runNic(await createMachine(NIC_MACHINE), { api: 'model', packets: PACKETS, packetSize: 64 });
  if (r.corrupted !== 0) throw new Error(`nic --api model: ${r.corrupted} corrupted packets`);
  modelNs.push(1e9 / r.packetsPerSecond);
  byHandNs.push(1e9 / runNic(await createMachine(NIC_MACHINE), { api: 'per-call', packets: PACKETS, packetSize: 64 }).packetsPerSecond);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1] ?? NaN;
const nsPerPacket = median(modelNs);
rows.push({
  suite: 'devices', name: 'NIC model, arm64 non-coherent 64 B, per call', value: 1e3 / nsPerPacket, unit: 'Mpps',
  ratio: nsPerPacket / callNs, baseline: 'empty calls per packet', goal: '>= 1 Mpps',
});
rows.push({
  suite: 'devices', name: 'NIC model vs by-hand per-call rings', value: nsPerPacket / median(byHandNs), unit: 'x',
  ratio: nsPerPacket / median(byHandNs), baseline: 'time per packet, --api per-call',
});
rows.push({ suite: 'devices', name: 'NIC model: frames missed of those sent', value: r.rxMissed, unit: 'frames' });
rows.push({ suite: 'devices', name: 'NIC model: model time', value: r.modelNsPerPacket, unit: 'ns/pkt' });
report(rows);
