// Packet rate of the NIC workload on one core (wall time), beside line-rate goals and an empty
// JS->WASM call loop measured in the same run. Each packet is map + device write/read + unmap +
// verify, on both paths: per-call (every DMA API call, CPU and device access from JS) and
// batched (one engine call per ring step, assembly/ring.ts). A ratio is the packet's time in
// empty calls.

import { createMachine, type MachineOptions } from '../src/machine.js';
import { runNic, type NicApi, type NicOptions, type NicReport } from '../src/workloads/nic.js';
import { measure, report, type Row } from './util.js';

const APIS = ['per-call', 'batched'] as const satisfies readonly NicApi[];
/** Goals per path (issue 18's table and the line rates); '' where there is none. */
type Goals = Readonly<Record<(typeof APIS)[number], string>>;
const cases: { name: string; machine: MachineOptions; nic: Partial<NicOptions>; goals: Goals }[] = [
  { name: 'arm64 non-coherent, 64 B', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 64 }, goals: { 'per-call': '>= 2 Mpps', batched: '>= 14.88 Mpps (10 GbE)' } },
  { name: 'arm64 non-coherent, 1518 B', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 1518 }, goals: { 'per-call': '', batched: '>= 2.03 Mpps (25 GbE)' } },
  { name: 'x86_64 coherent, 64 B', machine: { arch: 'x86_64' }, nic: { packetSize: 64 }, goals: { 'per-call': '', batched: '>= 30 Mpps' } },
  { name: 'arm64 non-coherent, 64 B, recycled', machine: { config: { ARCH_HAS_BATCHED_DMA_SYNC: true } }, nic: { packetSize: 64, mode: 'recycle' }, goals: { 'per-call': '', batched: '' } },
  { name: 'x86_64, IOMMU strict, 64 B', machine: { arch: 'x86_64', cmdline: 'iommu.strict=1' }, nic: { iommu: true }, goals: { 'per-call': '', batched: '>= 5 Mpps' } },
  { name: 'x86_64, IOMMU lazy, 64 B', machine: { arch: 'x86_64', cmdline: 'iommu.strict=0' }, nic: { iommu: true }, goals: { 'per-call': '', batched: '>= 5 Mpps' } },
  { name: 'x86_64, swiotlb=force, 64 B', machine: { arch: 'x86_64', cmdline: 'swiotlb=force' }, nic: {}, goals: { 'per-call': '', batched: '>= 5 Mpps' } },
];
/** Where 'batched' falls back to per-call today: the row names the path that ran. */
const fallbacks: { name: string; machine: MachineOptions; nic: Partial<NicOptions> }[] = [
  { name: 'x86_64, DMA_API_DEBUG, 64 B', machine: { arch: 'x86_64', config: { DMA_API_DEBUG: true } }, nic: {} },
];
const PACKETS: Readonly<Record<(typeof APIS)[number], number>> = { 'per-call': 200_000, batched: 1_000_000 };

const rows: Row[] = [];
const probe = await createMachine();
const CALLS = 20_000;
const base = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) probe.core.noop(); } }]);
const callNs = base.get('noop') ?? NaN;
rows.push({ suite: 'nic', name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

/**
 * One timed run: warm up (tier the hot paths up) on one machine, time on a fresh one, so that
 * the model time per packet is this run's alone.
 */
async function timed(machine: MachineOptions, nic: Partial<NicOptions>, api: NicApi, packets: number): Promise<NicReport> {
  runNic(await createMachine({ seed: 1, ...machine }), { ...nic, api, packets: packets / 10 });
  return runNic(await createMachine({ seed: 1, ...machine }), { ...nic, api, packets });
}

function rateRow(name: string, r: NicReport, goal: string): Row {
  return {
    suite: 'nic', name, value: r.packetsPerSecond / 1e6, unit: 'Mpps', ratio: 1e9 / r.packetsPerSecond / callNs,
    baseline: 'empty calls per packet', ...(goal ? { goal } : {}),
  };
}

for (const c of cases) {
  for (const api of APIS) {
    const r = await timed(c.machine, c.nic, api, PACKETS[api]);
    if (r.corrupted !== 0) throw new Error(`${c.name}, ${api}: ${r.corrupted} corrupted packets`);
    if (r.api !== api) throw new Error(`${c.name}: asked for ${api}, ran ${r.api} (${r.apiFallback ?? ''})`);
    rows.push(rateRow(`${c.name}, ${api}`, r, c.goals[api]));
    if (api === 'batched') rows.push({ suite: 'nic', name: `${c.name}: model time`, value: r.modelNsPerPacket, unit: 'ns/pkt' });
  }
}

for (const c of fallbacks) {
  const r = await timed(c.machine, c.nic, 'batched', PACKETS['per-call']);
  if (r.corrupted !== 0) throw new Error(`${c.name}: ${r.corrupted} corrupted packets`);
  rows.push(rateRow(`${c.name}, batched (ran ${r.api})`, r, '>= 5 Mpps'));
}

// ---- a long --data-check run: the time per packet once the kernel log is full ------------------
// A driver that forgets dma_sync_single_for_device() gets a 7-line report per packet; with the
// log already at capacity every line overwrites the oldest record.

const DC_MACHINE: MachineOptions = { seed: 1, arch: 'arm64', dataCheck: true };
const DC_NIC: Partial<NicOptions> = { api: 'per-call', mode: 'recycle', bug: 'no-sync-for-device', packets: 3000 };
/** Time per packet with the log full over time per packet with it empty, one pair of runs. */
async function logFullRatio(): Promise<number> {
  const fresh = runNic(await createMachine(DC_MACHINE), DC_NIC);
  const full = await createMachine(DC_MACHINE);
  for (let i = 0, n = full.dmesg().length; n + i < 2 * 65_536; i++) full.log.pr_info(`filler ${i}`);
  return fresh.packetsPerSecond / runNic(full, DC_NIC).packetsPerSecond;
}
for (let k = 0; k < 3; k++) runNic(await createMachine(DC_MACHINE), DC_NIC);
// The median of 3 pairs: a run is a few hundred ms, and the shared machine moves one by half.
const ratios: number[] = [];
for (let k = 0; k < 3; k++) ratios.push(await logFullRatio());
const ratio = ratios.sort((x, y) => x - y)[1] ?? NaN;
rows.push({ suite: 'nic', name: '--data-check run, log full vs empty', value: ratio, unit: 'x', ratio, baseline: 'of the time per packet, log empty', goal: '~1x (flat)' });
report(rows);
