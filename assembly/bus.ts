// The system bus as a device sees it: DMA reads and writes of RAM by a bus master.
//
// A non-coherent device reads and writes RAM and never sees the CPU cache, which is the whole
// reason the DMA API does cache maintenance. A coherent device's accesses are snooped: its reads
// see dirty cached lines, and its writes leave no stale copy behind (as ACE/CHI or x86 snooping
// do). The host translates DMA addresses to RAM offsets and validates ranges before calling.

import { CNT_DEV_BYTES_READ, CNT_DEV_BYTES_WRITTEN, LD_DIRTY } from './abi';
import { copyBytes, count, equalPiece, overlay, snoopCompare, snoopInvalidate } from './cache';

/** Device read of [addr, addr + len) into dst. */
export function devRead(addr: usize, len: usize, dst: usize, coherent: bool): void {
  copyBytes(dst, addr, len);
  if (coherent) overlay(addr, len, dst, LD_DIRTY);
  count(CNT_DEV_BYTES_READ, <u64>len);
}

/**
 * A device read of [addr, addr + len) compared with `expected` instead of copied out: the same
 * counts and snoops as devRead(), and what it would have read.
 */
export function devCompare(addr: usize, len: usize, expected: usize, coherent: bool): bool {
  count(CNT_DEV_BYTES_READ, <u64>len);
  return coherent ? snoopCompare(addr, len, expected) : equalPiece(addr, expected, len);
}

/** Device write of src[0, len) to [addr, addr + len). */
export function devWrite(addr: usize, len: usize, src: usize, coherent: bool): void {
  if (coherent) snoopInvalidate(addr, len);
  copyBytes(addr, src, len);
  count(CNT_DEV_BYTES_WRITTEN, <u64>len);
}

/** Device write of `len` copies of `value` at addr. */
export function devFill(addr: usize, len: usize, value: u8, coherent: bool): void {
  if (coherent) snoopInvalidate(addr, len);
  memory.fill(addr, value, len);
  count(CNT_DEV_BYTES_WRITTEN, <u64>len);
}
