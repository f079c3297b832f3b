// Packet rate of the NIC workload on one core (wall time), beside line-rate context and an empty
// JS->WASM call loop measured in the same run. Each packet is map + device write/read + unmap +
// verify, through the per-call API.

import { createMachine, type MachineOptions } from '../src/machine.js';
import { runNic, type NicOptions } from '../src/workloads/nic.js';
import { measure, report, type Row } from './util.js';

const cases: { name: string; machine: MachineOptions; nic: Partial<NicOptions>; goal: string }[] = [
  { name: 'arm64 non-coherent, 64 B', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 64 }, goal: '>= 14.88 Mpps (10 GbE)' },
  { name: 'arm64 non-coherent, 1518 B', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 1518 }, goal: '>= 2.03 Mpps (25 GbE)' },
  { name: 'x86_64 coherent, 64 B', machine: { arch: 'x86_64' }, nic: { packetSize: 64 }, goal: '>= 30 Mpps' },
  { name: 'arm64 non-coherent, 64 B, recycled', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 64, mode: 'recycle' }, goal: '' },
];

const rows: Row[] = [];
const probe = await createMachine();
const CALLS = 20_000;
const base = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) probe.core.noop(); } }]);
const callNs = base.get('noop') ?? NaN;
rows.push({ suite: 'nic', name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

for (const c of cases) {
  const m = await createMachine({ seed: 1, ...c.machine });
  runNic(m, { ...c.nic, packets: 20_000 }); // warm up: tier the hot paths up before timing
  const r = runNic(m, { ...c.nic, packets: 200_000 });
  if (r.corrupted !== 0) throw new Error(`${c.name}: ${r.corrupted} corrupted packets`);
  const nsPerPacket = 1e9 / r.packetsPerSecond;
  rows.push({ suite: 'nic', name: c.name, value: r.packetsPerSecond / 1e6, unit: 'Mpps', ratio: nsPerPacket / callNs, baseline: 'empty calls per packet', ...(c.goal ? { goal: c.goal } : {}) });
  rows.push({ suite: 'nic', name: `${c.name}: model time`, value: r.modelNsPerPacket, unit: 'ns/pkt' });
}
report(rows);
