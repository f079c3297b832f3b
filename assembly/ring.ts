// Batched ring steps: what a NIC driver and its device do to a burst of descriptors, in one call
// from the host instead of a dozen crossings per packet (the per-call path in
// src/workloads/nic.ts). The host still decides what happens: it passes the arch's cache
// operations for each step as RING_OP_* bits, in the kernel's order, and where the kernel's work
// is per packet (an IOMMU, swiotlb=force) it makes those calls itself and hands over what the
// step needs: each slot's DMA address, where the device's access lands (RING_BUS_TABLE) and
// swiotlb's bounce copies (RING_BOUNCE) (src/workloads/nic-batched.ts). The steps do the line
// and byte work with the same functions the per-call path reaches one crossing at a time
// (cache.ts, bus.ts, copy.ts), in the same order, so both paths leave the same RAM, the same
// cache lines, the same counters and the same random stream behind. Where a step knows more
// than a per-call export does (a descriptor word is aligned, four of them share a line, a
// coherent device's word is in one line, the previous descriptor left this one's line resident
// and nothing in between can have evicted it), it takes a shorter path to the same end state:
// cpuWrite32x4(), cpuRead32(), snoopedSource(), snoopInvalidateInLine(), cpuWrite32x4Again(),
// cpuRead32Again(); test/ring-engine.property.test.ts checks each against the per-call exports.
//
// Everything a step reads is in the host's ring area (src/layout.ts), described by a ring block
// (abi-ring.ts RB_*):
//
//   ring block --> slots  [ buf | desc | dma lo | dma hi | bus | bounce ] x size   (RS_*)
//              --> banks  [ base lo | base hi | size | offset ] x n    (RBANK_*)
//              --> pattern: the payload bytes, packet seq at (seq + seq base) * STRIDE % PERIOD
//              --> tmp:     max(len, DESC_BYTES) bytes the CPU and the device read into
//
// Steps return how many descriptors they handled; packet checks add to the block's verified,
// corrupted and faults fields. Nothing here allocates, and nothing is validated: the host laid
// out every offset.

import {
  CNT_CPU_BYTES_WRITTEN, CNT_DEV_BYTES_READ, CNT_DEV_BYTES_WRITTEN, CNT_DIRTY_WRITTEN_BACK, CNT_SNOOPS,
  CNT_UNCACHED_BYTES,
} from './abi';
import {
  DESC_ADDR_HI, DESC_ADDR_LO, DESC_BYTES, DESC_DONE, DESC_FLAGS, DESC_LEN, DESC_OWN, NIC_PAYLOAD_PERIOD,
  NIC_PAYLOAD_STRIDE, RB_BANKS, RB_CORRUPTED, RB_FAULTS, RB_FLAGS, RB_LEN, RB_NBANKS, RB_PATTERN, RB_SEQ_BASE,
  RB_SIZE, RB_SLOTS, RB_TMP, RB_VERIFIED, RBANK_BASE_HI, RBANK_BASE_LO, RBANK_BYTES, RBANK_OFFSET, RBANK_SIZE,
  BOUNCE_IN, BOUNCE_OUT, RING_BOUNCE, RING_BUS_TABLE, RING_COHERENT, RING_DESC_CACHED, RING_OP_CLEAN, RING_OP_DEV_WRITE,
  RING_OP_FILL, RING_OP_INVAL, RING_OP_VERIFY, RS_BOUNCE, RS_BUF, RS_BUS, RS_BYTES, RS_DESC, RS_DMA_HI, RS_DMA_LO,
} from './abi-ring';
import { devCompare, devRead } from './bus';
import { cpuCopy } from './copy';
import {
  clean, copyBytes, count, cpuCompare, cpuRead32, cpuRead32Again, cpuWrite, cpuWrite32x4, cpuWrite32x4Again, cpuWriteInLine, inOneLine,
  invalPoc, lineBytes, newestSurvives, noLoadEffects, residentData, snoopedSource, snoopInvalidate, snoopInvalidateInLine,
} from './cache';

// A step keeps the ring's fields and its cursor in locals: `idx`, the current packet's slot, and
// `at`, where its payload starts in the pattern. The counters a step bumps itself (uncached and
// device bytes) and the block's results are summed in locals too and added once at the end:
// only their totals are visible, and the host reads them after the call.

/** Where packet `first`'s payload starts in the pattern: the workload's payload() (nic.ts), one division. */
// @ts-ignore: decorator
@inline function payloadAt(ring: usize, first: u32): u32 {
  return <u32>(((<u64>first + <u64>load<u32>(ring, RB_SEQ_BASE)) * <u64>NIC_PAYLOAD_STRIDE) % <u64>NIC_PAYLOAD_PERIOD);
}

/** The next packet's payload offset. */
// @ts-ignore: decorator
@inline function nextAt(at: u32): u32 {
  at += NIC_PAYLOAD_STRIDE;
  return at >= <u32>NIC_PAYLOAD_PERIOD ? at - NIC_PAYLOAD_PERIOD : at;
}

/** Adds n to a result field of a ring block. */
// @ts-ignore: decorator
@inline function bump(ring: usize, field: usize, n: u32): void {
  store<u32>(ring + field, load<u32>(ring + field) + n);
}

/**
 * The WASM offset a bus access to [addr, addr + len) lands on, or -1 when no RAM bank holds the
 * whole range (the device takes a DMA fault). Bus and physical addresses are one here (no
 * dma_range_map; behind an IOMMU the host translates, RING_BUS_TABLE).
 */
// @ts-ignore: decorator
@inline function busOffset(banks: usize, n: u32, lo: u32, hi: u32, len: usize): i64 {
  const addr = (<u64>hi << 32) | <u64>lo;
  let r: i64 = -1;
  for (let b: u32 = 0; b < n; b++) {
    const e = banks + <usize>b * RBANK_BYTES;
    const base = (<u64>load<u32>(e, RBANK_BASE_HI) << 32) | <u64>load<u32>(e, RBANK_BASE_LO);
    const bytes = <u64>load<u32>(e, RBANK_SIZE);
    if (<u64>len <= bytes && addr >= base && addr - base <= bytes - <u64>len) {
      r = <i64>(<u64>load<u32>(e, RBANK_OFFSET) + (addr - base));
      break;
    }
  }
  return r;
}

/**
 * The driver posts n descriptors from packet `first` on: per packet, in this order, what `ops`
 * asks of the buffer (RING_OP_INVAL: sync_for_cpu's invalidate; with RING_BOUNCE, the slot's
 * BOUNCE_IN copy back from its bounce slot; RING_OP_FILL: the CPU writes the payload; the slot's
 * BOUNCE_OUT copy to its bounce slot; RING_OP_CLEAN: map's or sync_for_device's clean), then the
 * descriptor's address and
 * length, then its OWN flag (the dma_wmb() between them orders nothing more here: the host
 * counts it, and takes this path only without a store buffer). Each descriptor word is a
 * writel(): through the cache, or through the uncached alias.
 * @returns n
 */
export function ringPost(ring: usize, first: u32, n: u32, ops: u32): u32 {
  const slots = <usize>load<u32>(ring, RB_SLOTS);
  const size = load<u32>(ring, RB_SIZE);
  const len = <usize>load<u32>(ring, RB_LEN);
  const cached = (load<u32>(ring, RB_FLAGS) & RING_DESC_CACHED) != 0;
  const tmp = <usize>load<u32>(ring, RB_TMP);
  const pattern = <usize>load<u32>(ring, RB_PATTERN);
  const bounce = (load<u32>(ring, RB_FLAGS) & RING_BOUNCE) != 0;
  // With no buffer work and no load effects, nothing but the descriptor writes touches the
  // cache: a descriptor in the line the previous one left resident and dirty is a hit on the
  // same slot (cpuWrite32x4Again()). `lastLine` is that line (~0: none), `lineData` its data.
  const again = cached && ops == 0 && !bounce && noLoadEffects();
  const fillInLine = inOneLine(0, len) && len > 0;
  const lineMask = lineBytes() - 1;
  let lastLine: usize = ~(<usize>0);
  let lineData: usize = 0;
  let idx = first % size;
  let at = payloadAt(ring, first);
  let uncached: u64 = 0;
  let filled: u64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const s = slots + <usize>idx * RS_BYTES;
    const buf = <usize>load<u32>(s, RS_BUF);
    const copies = bounce ? load<u32>(s, RS_BOUNCE) : 0;
    if (ops & RING_OP_INVAL) invalPoc(buf, len);
    if (copies & BOUNCE_IN) cpuCopy(buf, <usize>load<u32>(s, RS_BUS), len);
    if (ops & RING_OP_FILL) {
      // cpuWrite(), inline for a packet inside one line; its bytes are counted at the end.
      if (fillInLine && inOneLine(buf, len)) {
        cpuWriteInLine(buf, len, pattern + <usize>at);
        filled += <u64>len;
      } else {
        cpuWrite(buf, len, pattern + <usize>at);
      }
    }
    if (copies & BOUNCE_OUT) cpuCopy(<usize>load<u32>(s, RS_BUS), buf, len);
    if (ops & RING_OP_CLEAN) clean(buf, len > 0 ? len : 1);
    const d = <usize>load<u32>(s, RS_DESC);
    const lo = load<u32>(s, RS_DMA_LO);
    const hi = load<u32>(s, RS_DMA_HI);
    if (cached) {
      const line = d & ~lineMask;
      const aligned = (d & (DESC_BYTES - 1)) == 0;
      if (again && aligned && line == lastLine) {
        cpuWrite32x4Again(lineData, d - line, lo, hi, <u32>len, DESC_OWN);
      } else {
        cpuWrite32x4(d, lo, hi, <u32>len, DESC_OWN, tmp);
        if (again) {
          lastLine = aligned ? line : ~(<usize>0);
          lineData = residentData(d);
        }
      }
    } else {
      store<u32>(d + DESC_ADDR_LO, lo);
      store<u32>(d + DESC_ADDR_HI, hi);
      store<u32>(d + DESC_LEN, <u32>len);
      store<u32>(d + DESC_FLAGS, DESC_OWN);
      uncached += DESC_BYTES;
    }
    at = nextAt(at);
    if (++idx == size) idx = 0;
  }
  count(CNT_UNCACHED_BYTES, uncached);
  count(CNT_CPU_BYTES_WRITTEN, filled);
  return n;
}

/**
 * The device walks up to n descriptors from packet `first` on, stopping at the first it does
 * not own: it reads the descriptor, then writes the payload at the descriptor's address (or
 * where the slot's RS_BUS says, RING_BUS_TABLE) (RING_OP_DEV_WRITE, receive) or reads and
 * checks it (transmit), then hands the descriptor back
 * with DONE. An address that reaches no RAM is a DMA fault (and, on transmit, a corrupted
 * packet); the walk goes on.
 *
 * A coherent device reads a descriptor that sits in one line from the dirty cached line or from
 * RAM (snoopedSource(), what devRead() would have copied out), and its writes drop the CPU's
 * copies first (snoopInvalidate(), inline for a range inside one line, counts summed in locals).
 * @returns the descriptors handled
 */
export function ringDevice(ring: usize, first: u32, n: u32, ops: u32): u32 {
  const slots = <usize>load<u32>(ring, RB_SLOTS);
  const size = load<u32>(ring, RB_SIZE);
  const len = <usize>load<u32>(ring, RB_LEN);
  const coherent = (load<u32>(ring, RB_FLAGS) & RING_COHERENT) != 0;
  const tmp = <usize>load<u32>(ring, RB_TMP);
  const pattern = <usize>load<u32>(ring, RB_PATTERN);
  const banks = <usize>load<u32>(ring, RB_BANKS);
  const nbanks = load<u32>(ring, RB_NBANKS);
  const write = (ops & RING_OP_DEV_WRITE) != 0;
  const table = (load<u32>(ring, RB_FLAGS) & RING_BUS_TABLE) != 0;
  let idx = first % size;
  let at = payloadAt(ring, first);
  let read: u64 = 0;
  let written: u64 = 0;
  let verified: u32 = 0;
  let corrupted: u32 = 0;
  let faults: u32 = 0;
  let done: u32 = 0;
  // snoopInvalidateInLine()'s counts, summed: snoops in the low half, lines written back in the high half.
  let snoops: u64 = 0;
  const payloadInLine = inOneLine(0, len) && len > 0;
  for (; done < n; done++) {
    const s = slots + <usize>idx * RS_BYTES;
    const d = <usize>load<u32>(s, RS_DESC);
    let desc = d;
    if (!coherent) {
      read += DESC_BYTES;
    } else if ((d & (DESC_BYTES - 1)) == 0) {
      // Lines are a multiple of 16 bytes: an aligned descriptor is inside one line.
      desc = snoopedSource(d);
      read += DESC_BYTES;
    } else {
      devRead(d, DESC_BYTES, tmp, true);
      desc = tmp;
    }
    if ((load<u32>(desc, DESC_FLAGS) & DESC_OWN) == 0) break;
    const to = table ? <i64>load<i32>(s, RS_BUS) : busOffset(banks, nbanks, load<u32>(desc, DESC_ADDR_LO), load<u32>(desc, DESC_ADDR_HI), len);
    const payload = pattern + <usize>at;
    if (to < 0) {
      faults++;
      if (!write) corrupted++;
    } else if (write) {
      if (coherent) {
        if (payloadInLine && inOneLine(<usize>to, len)) snoops += snoopInvalidateInLine(<usize>to, len);
        else snoopInvalidate(<usize>to, len);
      }
      copyBytes(<usize>to, payload, len);
      written += <u64>len;
    } else if (devCompare(<usize>to, len, payload, coherent)) {
      verified++;
    } else {
      corrupted++;
    }
    const f = d + DESC_FLAGS;
    if (coherent) {
      if (inOneLine(f, 4)) snoops += snoopInvalidateInLine(f, 4);
      else snoopInvalidate(f, 4);
    }
    store<u32>(f, DESC_DONE);
    written += 4;
    at = nextAt(at);
    if (++idx == size) idx = 0;
  }
  count(CNT_DEV_BYTES_READ, read);
  count(CNT_DEV_BYTES_WRITTEN, written);
  count(CNT_SNOOPS, snoops & 0xffffffff);
  count(CNT_DIRTY_WRITTEN_BACK, snoops >> 32);
  bump(ring, RB_VERIFIED, verified);
  bump(ring, RB_CORRUPTED, corrupted);
  bump(ring, RB_FAULTS, faults);
  return done;
}

/**
 * The driver reaps up to n descriptors from packet `first` on, stopping at the first the device
 * has not handed back: per packet, the DONE flag (a readl(), cached or not), then what `ops`
 * asks (RING_OP_INVAL: unmap's or sync_for_cpu's invalidate; with RING_BOUNCE, the slot's
 * BOUNCE_IN copy back from its bounce slot; RING_OP_VERIFY: the CPU reads the buffer and checks
 * the payload).
 * @returns the descriptors reaped
 */
export function ringReap(ring: usize, first: u32, n: u32, ops: u32): u32 {
  const slots = <usize>load<u32>(ring, RB_SLOTS);
  const size = load<u32>(ring, RB_SIZE);
  const len = <usize>load<u32>(ring, RB_LEN);
  const cached = (load<u32>(ring, RB_FLAGS) & RING_DESC_CACHED) != 0;
  const tmp = <usize>load<u32>(ring, RB_TMP);
  const pattern = <usize>load<u32>(ring, RB_PATTERN);
  const bounce = (load<u32>(ring, RB_FLAGS) & RING_BOUNCE) != 0;
  // A descriptor in the line the previous flags read left resident is a hit on the same slot
  // (cpuRead32Again()) when nothing in between can have pushed that line out: no load effects,
  // no invalidate, no bounce, and no more buffer lines read than newestSurvives() allows.
  // `lastLine` is that line (~0: none), `lineData` its data.
  const lineMask = lineBytes() - 1;
  const bufLines = (len + 2 * lineMask) / (lineMask + 1);
  const again = cached && (ops & RING_OP_INVAL) == 0 && !bounce && noLoadEffects() &&
    ((ops & RING_OP_VERIFY) == 0 || newestSurvives(bufLines));
  let lastLine: usize = ~(<usize>0);
  let lineData: usize = 0;
  let idx = first % size;
  let at = payloadAt(ring, first);
  let uncached: u64 = 0;
  let verified: u32 = 0;
  let corrupted: u32 = 0;
  let k: u32 = 0;
  for (; k < n; k++) {
    const s = slots + <usize>idx * RS_BYTES;
    const d = <usize>load<u32>(s, RS_DESC);
    const f = d + DESC_FLAGS;
    let flags: u32;
    if (cached) {
      const line = d & ~lineMask;
      const aligned = (d & (DESC_BYTES - 1)) == 0;
      if (again && aligned && line == lastLine) {
        flags = cpuRead32Again(lineData, f - line);
      } else {
        flags = cpuRead32(f, tmp);
        if (again) {
          lastLine = aligned ? line : ~(<usize>0);
          lineData = residentData(d);
        }
      }
    } else {
      flags = load<u32>(f);
      uncached += 4;
    }
    if ((flags & DESC_DONE) == 0) break;
    const buf = <usize>load<u32>(s, RS_BUF);
    if (ops & RING_OP_INVAL) invalPoc(buf, len);
    if (bounce && (load<u32>(s, RS_BOUNCE) & BOUNCE_IN)) cpuCopy(buf, <usize>load<u32>(s, RS_BUS), len);
    if (ops & RING_OP_VERIFY) {
      if (cpuCompare(buf, len, pattern + <usize>at)) verified++;
      else corrupted++;
    }
    at = nextAt(at);
    if (++idx == size) idx = 0;
  }
  count(CNT_UNCACHED_BYTES, uncached);
  bump(ring, RB_VERIFIED, verified);
  bump(ring, RB_CORRUPTED, corrupted);
  return k;
}
