// Batched ring steps: what a NIC driver and its device do to a burst of descriptors, in one call
// from the host instead of a dozen crossings per packet (the per-call path in
// src/workloads/nic.ts). The host still decides what happens: it takes the dma-direct path
// only where no buffer bounces, and passes the arch's cache operations for each step as
// RING_OP_* bits, in the kernel's order (src/workloads/nic-batched.ts). The steps do the line
// and byte work with the same functions the per-call path reaches one crossing at a time
// (cache.ts, bus.ts, copy.ts), in the same order, so both paths leave the same RAM, the same
// cache lines, the same counters and the same random stream behind.
//
// Everything a step reads is in the host's ring area (src/layout.ts), described by a ring block
// (abi.ts RB_*):
//
//   ring block --> slots  [ buf | desc | dma lo | dma hi ] x size     (RS_*)
//              --> banks  [ base lo | base hi | size | offset ] x n    (RBANK_*)
//              --> pattern: the payload bytes, packet seq at (seq + seq base) * STRIDE % PERIOD
//              --> tmp:     max(len, DESC_BYTES) bytes the CPU and the device read into
//
// Steps return how many descriptors they handled; packet checks add to the block's verified,
// corrupted and faults fields. Nothing here allocates, and nothing is validated: the host laid
// out every offset.

import {
  DESC_ADDR_HI, DESC_ADDR_LO, DESC_BYTES, DESC_DONE, DESC_FLAGS, DESC_LEN, DESC_OWN,
  NIC_PAYLOAD_PERIOD, NIC_PAYLOAD_STRIDE,
  RB_BANKS, RB_CORRUPTED, RB_FAULTS, RB_FLAGS, RB_LEN, RB_NBANKS, RB_PATTERN, RB_SEQ_BASE, RB_SIZE,
  RB_SLOTS, RB_TMP, RB_VERIFIED, RBANK_BASE_HI, RBANK_BASE_LO, RBANK_BYTES, RBANK_OFFSET, RBANK_SIZE,
  RING_COHERENT, RING_DESC_CACHED, RING_OP_CLEAN, RING_OP_DEV_WRITE, RING_OP_FILL, RING_OP_INVAL,
  RING_OP_VERIFY, RS_BUF, RS_BYTES, RS_DESC, RS_DMA_HI, RS_DMA_LO,
} from './abi';
import { devCompare, devRead, devWrite } from './bus';
import { clean, cpuCompare, cpuRead, cpuWrite, invalPoc } from './cache';
import { uncachedRead, uncachedWrite } from './copy';

// The ring a step works on, read from its block once per call, and the cursor on the current
// packet: module globals, one set per engine instance, as cache.ts keeps the cache geometry.
let block: usize = 0;
let slots: usize = 0;
let size: u32 = 1;
let len: usize = 0;
let flags: u32 = 0;
let tmp: usize = 0;
let pattern: usize = 0;
/** The current packet's slot. */
let idx: u32 = 0;
/** Where the current packet's payload starts in the pattern. */
let at: u32 = 0;

/**
 * Reads the ring block and puts the cursor on packet `first`: its slot, and its payload, the
 * workload's payload() (nic.ts), taken with one division here and stepped by next().
 */
function begin(ring: usize, first: u32): void {
  block = ring;
  slots = <usize>load<u32>(ring, RB_SLOTS);
  size = load<u32>(ring, RB_SIZE);
  len = <usize>load<u32>(ring, RB_LEN);
  flags = load<u32>(ring, RB_FLAGS);
  tmp = <usize>load<u32>(ring, RB_TMP);
  pattern = <usize>load<u32>(ring, RB_PATTERN);
  idx = first % size;
  at = <u32>(((<u64>first + <u64>load<u32>(ring, RB_SEQ_BASE)) * <u64>NIC_PAYLOAD_STRIDE) % <u64>NIC_PAYLOAD_PERIOD);
}

/** Moves the cursor to the next packet. */
// @ts-ignore: decorator
@inline function next(): void {
  at += NIC_PAYLOAD_STRIDE;
  if (at >= <u32>NIC_PAYLOAD_PERIOD) at -= NIC_PAYLOAD_PERIOD;
  if (++idx == size) idx = 0;
}

// @ts-ignore: decorator
@inline function slot(): usize {
  return slots + <usize>idx * RS_BYTES;
}

// @ts-ignore: decorator
@inline function payload(): usize {
  return pattern + <usize>at;
}

/** Adds one to a result field of the ring block. */
// @ts-ignore: decorator
@inline function bump(field: usize): void {
  store<u32>(block + field, load<u32>(block + field) + 1);
}

/** writel() to a descriptor word: through the cache, or through the uncached alias. */
function cpuStore32(addr: usize, value: u32): void {
  store<u32>(tmp, value);
  if (flags & RING_DESC_CACHED) cpuWrite(addr, 4, tmp);
  else uncachedWrite(addr, 4, tmp);
}

/** readl() of a descriptor word. */
function cpuLoad32(addr: usize): u32 {
  if (flags & RING_DESC_CACHED) cpuRead(addr, 4, tmp);
  else uncachedRead(addr, 4, tmp);
  return load<u32>(tmp);
}

/**
 * The WASM offset a bus access to [addr, addr + len) lands on, or -1 when no RAM bank holds the
 * whole range (the device takes a DMA fault). Bus and physical addresses are one on the
 * batched path (no dma_range_map, no IOMMU).
 */
function busOffset(lo: u32, hi: u32): i64 {
  const addr = (<u64>hi << 32) | <u64>lo;
  const banks = <usize>load<u32>(block, RB_BANKS);
  const n = load<u32>(block, RB_NBANKS);
  for (let b: u32 = 0; b < n; b++) {
    const e = banks + <usize>b * RBANK_BYTES;
    const base = (<u64>load<u32>(e, RBANK_BASE_HI) << 32) | <u64>load<u32>(e, RBANK_BASE_LO);
    const bytes = <u64>load<u32>(e, RBANK_SIZE);
    if (<u64>len <= bytes && addr >= base && addr - base <= bytes - <u64>len) {
      return <i64>(<u64>load<u32>(e, RBANK_OFFSET) + (addr - base));
    }
  }
  return -1;
}

/**
 * The driver posts n descriptors from packet `first` on: per packet, in this order, what `ops`
 * asks of the buffer (RING_OP_INVAL: sync_for_cpu's invalidate; RING_OP_FILL: the CPU writes the
 * payload; RING_OP_CLEAN: map's or sync_for_device's clean), then the descriptor's address and
 * length, then its OWN flag (the dma_wmb() between them orders nothing more here: the host
 * counts it, and takes this path only without a store buffer).
 * @returns n
 */
export function ringPost(ring: usize, first: u32, n: u32, ops: u32): u32 {
  begin(ring, first);
  for (let k: u32 = 0; k < n; k++) {
    const s = slot();
    const buf = <usize>load<u32>(s, RS_BUF);
    if (ops & RING_OP_INVAL) invalPoc(buf, len);
    if (ops & RING_OP_FILL) cpuWrite(buf, len, payload());
    if (ops & RING_OP_CLEAN) clean(buf, len > 0 ? len : 1);
    const d = <usize>load<u32>(s, RS_DESC);
    cpuStore32(d + DESC_ADDR_LO, load<u32>(s, RS_DMA_LO));
    cpuStore32(d + DESC_ADDR_HI, load<u32>(s, RS_DMA_HI));
    cpuStore32(d + DESC_LEN, <u32>len);
    cpuStore32(d + DESC_FLAGS, DESC_OWN);
    next();
  }
  return n;
}

/**
 * The device walks up to n descriptors from packet `first` on, stopping at the first it does
 * not own: it reads the descriptor, then writes the payload at the descriptor's address
 * (RING_OP_DEV_WRITE, receive) or reads and checks it (transmit), then hands the descriptor back
 * with DONE. An address that reaches no RAM is a DMA fault (and, on transmit, a corrupted
 * packet); the walk goes on.
 * @returns the descriptors handled
 */
export function ringDevice(ring: usize, first: u32, n: u32, ops: u32): u32 {
  begin(ring, first);
  const coherent = (flags & RING_COHERENT) != 0;
  let done: u32 = 0;
  for (; done < n; done++) {
    const d = <usize>load<u32>(slot(), RS_DESC);
    devRead(d, DESC_BYTES, tmp, coherent);
    if ((load<u32>(tmp, DESC_FLAGS) & DESC_OWN) == 0) break;
    const to = busOffset(load<u32>(tmp, DESC_ADDR_LO), load<u32>(tmp, DESC_ADDR_HI));
    if (to < 0) {
      bump(RB_FAULTS);
      if ((ops & RING_OP_DEV_WRITE) == 0) bump(RB_CORRUPTED);
    } else if (ops & RING_OP_DEV_WRITE) {
      devWrite(<usize>to, len, payload(), coherent);
    } else {
      bump(devCompare(<usize>to, len, payload(), coherent, tmp) ? RB_VERIFIED : RB_CORRUPTED);
    }
    store<u32>(tmp, DESC_DONE);
    devWrite(d + DESC_FLAGS, 4, tmp, coherent);
    next();
  }
  return done;
}

/**
 * The driver reaps up to n descriptors from packet `first` on, stopping at the first the device
 * has not handed back: per packet, the DONE flag, then what `ops` asks (RING_OP_INVAL: unmap's or
 * sync_for_cpu's invalidate; RING_OP_VERIFY: the CPU reads the buffer and checks the payload).
 * @returns the descriptors reaped
 */
export function ringReap(ring: usize, first: u32, n: u32, ops: u32): u32 {
  begin(ring, first);
  let k: u32 = 0;
  for (; k < n; k++) {
    const s = slot();
    if ((cpuLoad32(<usize>load<u32>(s, RS_DESC) + DESC_FLAGS) & DESC_DONE) == 0) break;
    const buf = <usize>load<u32>(s, RS_BUF);
    if (ops & RING_OP_INVAL) invalPoc(buf, len);
    if (ops & RING_OP_VERIFY) bump(cpuCompare(buf, len, payload()) ? RB_VERIFIED : RB_CORRUPTED);
    next();
  }
  return k;
}
