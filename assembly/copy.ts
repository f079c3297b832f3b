// Copies and fills: the CPU memcpy that swiotlb_bounce() does, and uncached CPU accesses.

import { CNT_CPU_COPY_BYTES, CNT_UNCACHED_BYTES } from './abi';
import { copyBytes, copyThroughCache, count, snoopInvalidate } from './cache';

/**
 * CPU memcpy of n bytes from src to dst (non-overlapping RAM ranges), as swiotlb_bounce() does.
 *
 * The CPU sees the same bytes as a cacheable copy would give: the source is read through the
 * cache (every resident line wins over RAM, a stale one too: that is what the CPU reads) and
 * the destination ends up holding the new bytes with no stale cached copy. The copy is modelled as a non-temporal one: the destination lines are not
 * left resident and dirty, which keeps a 64 KiB bounce a single memory.copy instead of 2048
 * line fills. see: kernel/dma/swiotlb.c swiotlb_bounce()
 */
export function cpuCopy(dst: usize, src: usize, n: usize): void {
  snoopInvalidate(dst, n);
  copyThroughCache(dst, src, n);
  count(CNT_CPU_COPY_BYTES, <u64>n);
}

/** Uncached CPU read (a Normal-NC or Device mapping): RAM only, the cache is not looked up. */
export function uncachedRead(addr: usize, len: usize, dst: usize): void {
  copyBytes(dst, addr, len);
  count(CNT_UNCACHED_BYTES, <u64>len);
}

/** Uncached CPU write: straight to RAM, whatever the cache holds for the same lines. */
export function uncachedWrite(addr: usize, len: usize, src: usize): void {
  copyBytes(addr, src, len);
  count(CNT_UNCACHED_BYTES, <u64>len);
}

/** Uncached CPU memset. */
export function uncachedFill(addr: usize, len: usize, value: u8): void {
  memory.fill(addr, value, len);
  count(CNT_UNCACHED_BYTES, <u64>len);
}

/** A raw copy inside the engine's memory, used by benchmarks as the floor of every copy. */
export function rawCopy(dst: usize, src: usize, n: usize): void {
  memory.copy(dst, src, n);
}
