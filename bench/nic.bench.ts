// Packet rate of the NIC workload on one core (wall time), beside line-rate goals and an empty
// JS->WASM call loop measured in the same run. Each packet is map + device write/read + unmap +
// verify, on both paths: per-call (every DMA API call, CPU and device access from JS) and
// batched (one engine call per ring step, assembly/ring.ts). A ratio is the packet's time in
// empty calls.

import { createMachine, type MachineOptions } from '../src/machine.js';
import { runNic, type NicApi, type NicOptions } from '../src/workloads/nic.js';
import { measure, report, type Row } from './util.js';

const cases: { name: string; machine: MachineOptions; nic: Partial<NicOptions>; goal: string }[] = [
  { name: 'arm64 non-coherent, 64 B', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 64 }, goal: '>= 14.88 Mpps (10 GbE)' },
  { name: 'arm64 non-coherent, 1518 B', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 1518 }, goal: '>= 2.03 Mpps (25 GbE)' },
  { name: 'x86_64 coherent, 64 B', machine: { arch: 'x86_64' }, nic: { packetSize: 64 }, goal: '>= 30 Mpps' },
  { name: 'arm64 non-coherent, 64 B, recycled', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 64, mode: 'recycle' }, goal: '' },
];
const APIS = ['per-call', 'batched'] as const satisfies readonly NicApi[];
const PACKETS: Readonly<Record<(typeof APIS)[number], number>> = { 'per-call': 200_000, batched: 1_000_000 };

const rows: Row[] = [];
const probe = await createMachine();
const CALLS = 20_000;
const base = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) probe.core.noop(); } }]);
const callNs = base.get('noop') ?? NaN;
rows.push({ suite: 'nic', name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

for (const c of cases) {
  for (const api of APIS) {
    // Warm up (tier the hot paths up) on one machine, time on a fresh one, so that the model
    // time per packet is this run's alone.
    runNic(await createMachine({ seed: 1, ...c.machine }), { ...c.nic, api, packets: PACKETS[api] / 10 });
    const m = await createMachine({ seed: 1, ...c.machine });
    const r = runNic(m, { ...c.nic, api, packets: PACKETS[api] });
    if (r.corrupted !== 0) throw new Error(`${c.name}, ${api}: ${r.corrupted} corrupted packets`);
    if (r.api !== api) throw new Error(`${c.name}: asked for ${api}, ran ${r.api} (${r.apiFallback ?? ''})`);
    const nsPerPacket = 1e9 / r.packetsPerSecond;
    rows.push({
      suite: 'nic', name: `${c.name}, ${api}`, value: r.packetsPerSecond / 1e6, unit: 'Mpps', ratio: nsPerPacket / callNs,
      baseline: 'empty calls per packet', ...(c.goal ? { goal: c.goal } : {}),
    });
    if (api === 'batched') rows.push({ suite: 'nic', name: `${c.name}: model time`, value: r.modelNsPerPacket, unit: 'ns/pkt' });
  }
}
report(rows);
