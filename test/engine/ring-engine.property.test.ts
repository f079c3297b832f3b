// Differential property test of the engine's batched ring steps (assembly/ring.ts): on random
// rings (buffers and descriptors anywhere in two RAM banks, sharing lines or not, cached or
// uncached descriptors, coherent or not, DMA addresses that reach no RAM) and random sequences
// of post / device / reap steps with random operation bits, under random load, ringPost,
// ringDevice and ringReap leave the same memory, counters and results as a reference built from
// the per-call engine exports (cpuWrite, uncachedWrite, clean, invalPoc, devRead, devWrite, ...)
// one packet and one access at a time, as the per-call path reaches them.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  DESC_ADDR_HI, DESC_ADDR_LO, DESC_BYTES, DESC_DONE, DESC_FLAGS, DESC_LEN, DESC_OWN, NIC_PAYLOAD_PERIOD,
  NIC_PAYLOAD_STRIDE, RB_BANKS, RB_CORRUPTED, RB_FAULTS, RB_FLAGS, RB_LEN, RB_NBANKS, RB_PATTERN, RB_SEQ_BASE,
  RB_SIZE, RB_SLOTS, RB_TMP, RB_VERIFIED, RBANK_BASE_HI, RBANK_BASE_LO, RBANK_BYTES, RBANK_OFFSET, RBANK_SIZE,
  RING_COHERENT, RING_DESC_CACHED, RING_OP_CLEAN, RING_OP_DEV_WRITE, RING_OP_FILL, RING_OP_INVAL, RING_OP_VERIFY,
  RS_BUF, RS_BYTES, RS_DESC, RS_DMA_HI, RS_DMA_LO,
} from '../../assembly/abi-ring.js';
import { createMachine, type Machine } from '../../src/machine.js';
import { sameMemory } from '../support/workload-nic-batched-helpers.js';

const BANKS = [{ base: 0x8000_0000, size: 1 << 20 }, { base: 0x1_2000_0000, size: 1 << 20 }];
const U32 = 0x1_0000_0000;

/** dma: null for the buffer's own address, a number, or an address `edge` bytes off the last that fits in the slot's bank. */
interface Slot { bank: number; buf: number; desc: number; dma: number | null | { edge: number } }
/** descBase: null, every slot's own desc; else the descriptors are one array from there, four to a 64-byte line, as in the NIC's ring. */
interface Ring { len: number; cached: boolean; coherent: boolean; seqBase: number; descBase: number | null; slots: Slot[] }
type Step = { kind: 'post' | 'device' | 'reap'; first: number; n: number; ops: number };

const ringArb = fc.record({
  len: fc.integer({ min: 1, max: 300 }),
  cached: fc.boolean(),
  coherent: fc.boolean(),
  seqBase: fc.integer({ min: 0, max: 300 }),
  // Descriptors side by side, which the engine's same-line paths (a descriptor in the line the
  // previous one left resident) take; sometimes not 16-byte aligned, which they must not.
  descBase: fc.oneof(
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 1000 }).map((i) => i * DESC_BYTES), weight: 2 },
    { arbitrary: fc.integer({ min: 0, max: 16000 }), weight: 1 },
  ),
  slots: fc.array(fc.record({
    bank: fc.integer({ min: 0, max: 1 }),
    // Buffers in the first 16 KiB of a bank, so that they share lines and sets with each other
    // and with the descriptors; a DMA address that is null means "the buffer's own".
    buf: fc.integer({ min: 0, max: 16384 }),
    // Descriptors are 16-byte aligned as the driver allocates them; now and then one is not,
    // which the engine's word and snoop fast paths must hand to the byte paths.
    desc: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 1023 }).map((i) => i * DESC_BYTES), weight: 6 },
      { arbitrary: fc.integer({ min: 0, max: 16383 }), weight: 1 },
    ),
    dma: fc.oneof(
      { arbitrary: fc.constant(null), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 2 ** 40 }), weight: 1 },
      { arbitrary: fc.record({ edge: fc.integer({ min: -2, max: 2 }) }), weight: 1 },
    ),
  }), { minLength: 1, maxLength: 12 }),
});
const firstArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: U32 - 64 }));
/** Any step with any operation bits. */
const stepArb = fc.record({
  kind: fc.constantFrom('post' as const, 'device' as const, 'reap' as const),
  first: firstArb,
  n: fc.integer({ min: 0, max: 10 }),
  ops: fc.integer({ min: 0, max: 31 }),
});
/** A driver's round trip: post, device, reap over the same packets, RX or TX, sometimes with a sync left out. */
const roundArb = fc.tuple(firstArb, fc.integer({ min: 0, max: 10 }), fc.boolean(), fc.integer({ min: 0, max: 7 })).map(([first, n, rx, drop]): Step[] => {
  const keep = (ops: number): number => ops & ~(drop === 1 ? RING_OP_CLEAN : drop === 2 ? RING_OP_INVAL : 0);
  return rx
    ? [{ kind: 'post', first, n, ops: keep(RING_OP_CLEAN) }, { kind: 'device', first, n, ops: RING_OP_DEV_WRITE }, { kind: 'reap', first, n, ops: keep(RING_OP_INVAL) | RING_OP_VERIFY }]
    : [{ kind: 'post', first, n, ops: keep(RING_OP_INVAL | RING_OP_FILL | RING_OP_CLEAN) }, { kind: 'device', first, n, ops: 0 }, { kind: 'reap', first, n, ops: 0 }];
});
const stepsArb = fc.array(fc.oneof(roundArb, stepArb.map((s) => [s])), { minLength: 1, maxLength: 12 }).map((r) => r.flat());
/** Mostly the usual 64-byte line, which has unrolled paths in the engine; sometimes another size. */
const cacheArb = fc.oneof(
  { arbitrary: fc.constant({ size: 4096, ways: 4, lineSize: 64 }), weight: 4 },
  { arbitrary: fc.constantFrom({ size: 2048, ways: 4, lineSize: 16 }, { size: 4096, ways: 2, lineSize: 32 }, { size: 8192, ways: 4, lineSize: 128 }), weight: 1 },
  // Few sets and ways, so that buffer reads evict descriptor lines; random replacement may pick any way.
  { arbitrary: fc.constantFrom(
    { size: 128, ways: 2, lineSize: 64 }, { size: 256, ways: 1, lineSize: 64 }, { size: 512, ways: 4, lineSize: 64, replacement: 'random' as const },
    { size: 4096, ways: 4, lineSize: 64, replacement: 'random' as const }, { size: 128, ways: 8, lineSize: 16 },
  ), weight: 1 },
);
const loadArb = fc.record({ evictionPressure: fc.constantFrom(0, 0.1, 0.5), speculation: fc.constantFrom(0, 0.1, 0.5) });

/** The DMA address the driver posts for a slot (see Slot). */
function dmaOf(s: Slot, len: number): number {
  const bank = BANKS[s.bank] as { base: number; size: number };
  if (s.dma === null) return bank.base + s.buf;
  if (typeof s.dma === 'number') return s.dma;
  return bank.base + bank.size - len + s.dma.edge;
}

/** Where slot i's descriptor is, in its bank. */
function descOf(ring: Ring, i: number): number {
  return ring.descBase === null ? (ring.slots[i] as Slot).desc : ring.descBase + i * DESC_BYTES;
}

function offsetOf(m: Machine, bank: number, at: number): number {
  return (m.layout.banks[bank] as { offset: number }).offset + at;
}

function payloadAt(ring: Ring, seq: number): number {
  return ((seq + ring.seqBase) * NIC_PAYLOAD_STRIDE) % NIC_PAYLOAD_PERIOD;
}

/** Lays the ring out in the machine's ring area for the engine; returns the ring block. */
function engineRing(m: Machine, ring: Ring, pattern: Uint8Array): number {
  const u32 = new Uint32Array(m.memory.buffer);
  const set = (at: number, v: number): void => { u32[at >>> 2] = v; };
  const block = m.layout.ringArea;
  const banks = block + 64;
  const pat = banks + 64;
  const tmp = pat + 1024;
  const slots = tmp + 1024;
  m.u8.set(pattern, pat);
  m.layout.banks.forEach((b, i) => {
    set(banks + i * RBANK_BYTES + RBANK_BASE_LO, b.base % U32);
    set(banks + i * RBANK_BYTES + RBANK_BASE_HI, Math.floor(b.base / U32));
    set(banks + i * RBANK_BYTES + RBANK_SIZE, b.size);
    set(banks + i * RBANK_BYTES + RBANK_OFFSET, b.offset);
  });
  ring.slots.forEach((s, i) => {
    const e = slots + i * RS_BYTES;
    set(e + RS_BUF, offsetOf(m, s.bank, s.buf));
    set(e + RS_DESC, offsetOf(m, s.bank, descOf(ring, i)));
    set(e + RS_DMA_LO, dmaOf(s, ring.len) % U32);
    set(e + RS_DMA_HI, Math.floor(dmaOf(s, ring.len) / U32));
  });
  for (const [f, v] of [[RB_SLOTS, slots], [RB_SIZE, ring.slots.length], [RB_LEN, ring.len], [RB_PATTERN, pat], [RB_SEQ_BASE, ring.seqBase],
    [RB_FLAGS, (ring.cached ? RING_DESC_CACHED : 0) | (ring.coherent ? RING_COHERENT : 0)], [RB_TMP, tmp], [RB_BANKS, banks],
    [RB_NBANKS, m.layout.banks.length], [RB_VERIFIED, 0], [RB_CORRUPTED, 0], [RB_FAULTS, 0]] as const) set(block + f, v);
  return block;
}

/** The same steps, one engine call per access, as the per-call path makes them. */
class Reference {
  verified = 0;
  corrupted = 0;
  faults = 0;
  private readonly view: DataView;
  private readonly scratch: number;

  constructor(private readonly m: Machine, private readonly ring: Ring, private readonly pattern: Uint8Array) {
    this.view = new DataView(m.memory.buffer as ArrayBuffer);
    this.scratch = m.layout.scratch;
  }

  private slot(seq: number): { buf: number; desc: number; dma: number } {
    const i = seq % this.ring.slots.length;
    const s = this.ring.slots[i] as Slot;
    return { buf: offsetOf(this.m, s.bank, s.buf), desc: offsetOf(this.m, s.bank, descOf(this.ring, i)), dma: dmaOf(s, this.ring.len) };
  }

  private payload(seq: number): Uint8Array {
    const at = payloadAt(this.ring, seq);
    return this.pattern.subarray(at, at + this.ring.len);
  }

  private writel(off: number, v: number): void {
    this.view.setUint32(this.scratch, v, true);
    if (this.ring.cached) this.m.core.cpuWrite(off, 4, this.scratch);
    else this.m.core.uncachedWrite(off, 4, this.scratch);
  }

  private readl(off: number): number {
    if (this.ring.cached) this.m.core.cpuRead(off, 4, this.scratch);
    else this.m.core.uncachedRead(off, 4, this.scratch);
    return this.view.getUint32(this.scratch, true);
  }

  private scratchEquals(bytes: Uint8Array): boolean {
    return Buffer.from(this.m.u8.subarray(this.scratch, this.scratch + bytes.length)).equals(bytes);
  }

  post(first: number, n: number, ops: number): number {
    const { core } = this.m;
    const len = this.ring.len;
    for (let k = 0; k < n; k++) {
      const s = this.slot(first + k);
      if (ops & RING_OP_INVAL) core.invalPoc(s.buf, len);
      if (ops & RING_OP_FILL) {
        this.m.u8.set(this.payload(first + k), this.scratch);
        core.cpuWrite(s.buf, len, this.scratch);
      }
      if (ops & RING_OP_CLEAN) core.clean(s.buf, len);
      this.writel(s.desc + DESC_ADDR_LO, s.dma % U32);
      this.writel(s.desc + DESC_ADDR_HI, Math.floor(s.dma / U32));
      this.writel(s.desc + DESC_LEN, len);
      this.writel(s.desc + DESC_FLAGS, DESC_OWN);
    }
    return n;
  }

  device(first: number, n: number, ops: number): number {
    const { core } = this.m;
    const len = this.ring.len;
    const coh = this.ring.coherent ? 1 : 0;
    let done = 0;
    for (; done < n; done++) {
      const s = this.slot(first + done);
      core.devRead(s.desc, DESC_BYTES, this.scratch, coh);
      if (!(this.view.getUint32(this.scratch + DESC_FLAGS, true) & DESC_OWN)) break;
      const addr = this.view.getUint32(this.scratch + DESC_ADDR_LO, true) + this.view.getUint32(this.scratch + DESC_ADDR_HI, true) * U32;
      const off = this.m.physToOffset(addr, len);
      if (off < 0) {
        this.faults++;
        if (!(ops & RING_OP_DEV_WRITE)) this.corrupted++;
      } else if (ops & RING_OP_DEV_WRITE) {
        this.m.u8.set(this.payload(first + done), this.scratch);
        core.devWrite(off, len, this.scratch, coh);
      } else {
        core.devRead(off, len, this.scratch, coh);
        if (this.scratchEquals(this.payload(first + done))) this.verified++;
        else this.corrupted++;
      }
      this.view.setUint32(this.scratch, DESC_DONE, true);
      core.devWrite(s.desc + DESC_FLAGS, 4, this.scratch, coh);
    }
    return done;
  }

  reap(first: number, n: number, ops: number): number {
    const { core } = this.m;
    const len = this.ring.len;
    let k = 0;
    for (; k < n; k++) {
      const s = this.slot(first + k);
      if (!(this.readl(s.desc + DESC_FLAGS) & DESC_DONE)) break;
      if (ops & RING_OP_INVAL) core.invalPoc(s.buf, len);
      if (ops & RING_OP_VERIFY) {
        core.cpuRead(s.buf, len, this.scratch);
        if (this.scratchEquals(this.payload(first + k))) this.verified++;
        else this.corrupted++;
      }
    }
    return k;
  }
}

/** Runs the steps on the engine and on the reference, comparing after every step. */
async function sameAsReference(ring: Ring, steps: Step[], load: { evictionPressure: number; speculation: number }, cache: object, pattern: Uint8Array): Promise<void> {
  const opts = { ram: BANKS, cache, seed: 11, load };
  const a = await createMachine(opts);
  const b = await createMachine(opts);
  const block = engineRing(a, ring, pattern);
  const ref = new Reference(b, ring, pattern);
  const u32 = new Uint32Array(a.memory.buffer);
  for (const s of steps) {
    const got = s.kind === 'post' ? a.core.ringPost(block, s.first, s.n, s.ops)
      : s.kind === 'device' ? a.core.ringDevice(block, s.first, s.n, s.ops)
        : a.core.ringReap(block, s.first, s.n, s.ops);
    const want = s.kind === 'post' ? ref.post(s.first, s.n, s.ops) : s.kind === 'device' ? ref.device(s.first, s.n, s.ops) : ref.reap(s.first, s.n, s.ops);
    expect(got).toBe(want);
    expect([u32[(block + RB_VERIFIED) >>> 2], u32[(block + RB_CORRUPTED) >>> 2], u32[(block + RB_FAULTS) >>> 2]]).toEqual([ref.verified, ref.corrupted, ref.faults]);
    expect(sameMemory(a, b)).toBe(true);
  }
  expect(a.stats()).toEqual(b.stats());
}

test('ringPost, ringDevice and ringReap do what the per-call engine exports do, access by access', async () => {
  await fc.assert(
    fc.asyncProperty(ringArb, stepsArb, loadArb, cacheArb, fc.uint8Array({ minLength: 600, maxLength: 600 }), sameAsReference),
    { numRuns: 100 },
  );
});

// The same-line paths of ringPost and ringReap (a descriptor in the line the previous one left
// resident) hold only while nothing in between can push that line out: no buffer work between
// posts, no invalidate and few enough buffer lines between reaps under LRU, no load effects.
// Here every ring is an aligned, cached descriptor array in a cache of one to a few sets, where
// buffer fills do evict descriptor lines, and random replacement may evict the newest.
const sameLineRingArb = fc.tuple(ringArb, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2, max: 12 }))
  .map(([r, at, size]): Ring => ({ ...r, cached: true, descBase: at * DESC_BYTES, slots: Array.from({ length: size }, (_, i) => r.slots[i % r.slots.length] as Slot) }));
const smallCacheArb = fc.constantFrom(
  { size: 128, ways: 2, lineSize: 64 }, { size: 256, ways: 1, lineSize: 64 }, { size: 256, ways: 4, lineSize: 64, replacement: 'random' as const },
  { size: 512, ways: 2, lineSize: 64, replacement: 'random' as const }, { size: 256, ways: 4, lineSize: 64 }, { size: 64, ways: 4, lineSize: 16 },
);

test('the same-line descriptor paths fall back wherever a buffer access or a load effect can evict the line', async () => {
  await fc.assert(
    fc.asyncProperty(sameLineRingArb, stepsArb, fc.oneof({ arbitrary: fc.constant({ evictionPressure: 0, speculation: 0 }), weight: 3 }, { arbitrary: loadArb, weight: 1 }),
      smallCacheArb, fc.uint8Array({ minLength: 600, maxLength: 600 }), sameAsReference),
    { numRuns: 150 },
  );
});
