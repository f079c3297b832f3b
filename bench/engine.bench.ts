// The engine's physical limits (issue: the simulated machine): bounce copies against
// Buffer.copy, clean over clean lines, dirty write-back bandwidth, a CPU-write/clean/device-read
// cycle against an empty JS->WASM call, and the memory the default machine takes.

import { createMachine } from '../src/machine.js';
import { metadataBytes } from '../src/engine/layout.js';
import { measure, report, type Row } from './util.js';

const m = await createMachine();
const dev = m.createDevice({ name: 'bench0' });
const core = m.core;
const bank = m.layout.banks[1];
if (bank === undefined) throw new Error('the default machine has two banks');
// Work in the high bank, which nothing else uses; touch it first (never-written pages are the zero page).
const SRC = bank.offset;
const DST = bank.offset + (16 << 20);
m.u8.fill(0x5a, SRC, SRC + (8 << 20));
m.u8.fill(0xa5, DST, DST + (8 << 20));

const rows: Row[] = [];
const CALLS = 20_000;
const calls = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) core.noop(); } }]);
const callNs = calls.get('noop') ?? NaN;
rows.push({ suite: 'engine', name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

for (const size of [64, 2048, 65536, 4 << 20]) {
  const reps = Math.max(1, Math.floor((8 << 20) / size / 4));
  const a = Buffer.alloc(size, 0x5a);
  const b = Buffer.alloc(size, 0xa5);
  const r = await measure([
    { name: 'bounce', ops: reps, fn: () => { for (let i = 0; i < reps; i++) core.cpuCopy(DST, SRC, size); } },
    { name: 'Buffer.copy', ops: reps, fn: () => { for (let i = 0; i < reps; i++) a.copy(b, 0, 0, size); } },
  ]);
  const ns = r.get('bounce') ?? NaN;
  const base = r.get('Buffer.copy') ?? NaN;
  rows.push({ suite: 'engine', name: `bounce copy ${size} B`, value: size / ns, unit: 'GB/s', ratio: base / ns, baseline: 'of Buffer.copy', goal: size >= 2048 ? '>= 0.8x' : undefined });
}

const LINES = 16384; // 1 MiB of 64-byte lines: the whole cache
const SPAN = LINES * 64;
const basePhys = bank.base;
// Make every line resident and clean (64 KiB at a time: the size of the scratch buffer).
for (let off = 0; off < SPAN; off += 65536) core.cpuRead(SRC + off, 65536, m.layout.scratch);
const clean = await measure([
  { name: 'clean clean', ops: LINES, fn: () => { core.clean(SRC, SPAN); } },
  { name: 'clean dirty', ops: LINES, fn: () => { core.clean(SRC, SPAN); }, beforeEach: () => { core.cpuFill(SRC, SPAN, 1); } },
]);
rows.push({ suite: 'engine', name: 'clean over resident clean lines', value: clean.get('clean clean') ?? NaN, unit: 'ns/line', ratio: (clean.get('clean clean') ?? NaN) / callNs, baseline: 'of an empty call', goal: '<= 1 ns/line' });
rows.push({ suite: 'engine', name: 'dirty-line write-back (clean)', value: 64 / (clean.get('clean dirty') ?? NaN), unit: 'GB/s', goal: '>= 8 GB/s' });

const va = m.phys_to_virt(basePhys);
const pkt = new Uint8Array(64).fill(7);
const CYCLES = 2000;
const cycle = await measure([
  { name: 'api', ops: CYCLES, fn: () => { for (let i = 0; i < CYCLES; i++) { m.cpu.write(va, pkt); m.cache.clean(basePhys, 64); dev.dmaRead(basePhys, 64); } } },
  { name: 'engine', ops: CYCLES, fn: () => { for (let i = 0; i < CYCLES; i++) { core.cpuWrite(SRC, 64, m.layout.scratch); core.clean(SRC, 64); core.devRead(SRC, 64, m.layout.scratch, 0); } } },
]);
for (const [name, ns] of cycle) {
  rows.push({ suite: 'engine', name: `CPU write 64 B + clean + device read (${name})`, value: ns, unit: 'ns/cycle', ratio: ns / callNs, baseline: 'empty calls' });
}

const meta = metadataBytes(m.layout);
rows.push({ suite: 'engine', name: 'default machine linear memory', value: m.memoryBytes / 2 ** 20, unit: 'MiB' });
rows.push({ suite: 'engine', name: 'metadata beyond RAM and cache data', value: (100 * meta) / (m.memoryBytes - meta), unit: '%', goal: '<= 2 %' });
report(rows);
