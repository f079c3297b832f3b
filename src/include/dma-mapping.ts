// Constants and small helpers of include/linux/dma-mapping.h, include/linux/dma-direction.h and
// include/uapi/asm-generic/errno-base.h, with the kernel's names and values.

import { DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';

/** enum dma_data_direction */
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_NONE = 3;
export type DmaDirection = 0 | 1 | 2 | 3;
export const dir2name: readonly string[] = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];

/** DMA attributes (dma-mapping.h, v7.1). */
export const DMA_ATTR_WEAK_ORDERING = 1 << 1;
export const DMA_ATTR_WRITE_COMBINE = 1 << 2;
export const DMA_ATTR_NO_KERNEL_MAPPING = 1 << 4;
export const DMA_ATTR_SKIP_CPU_SYNC = 1 << 5;
export const DMA_ATTR_FORCE_CONTIGUOUS = 1 << 6;
export const DMA_ATTR_ALLOC_SINGLE_PAGES = 1 << 7;
export const DMA_ATTR_NO_WARN = 1 << 8;
export const DMA_ATTR_PRIVILEGED = 1 << 9;
export const DMA_ATTR_MMIO = 1 << 10;
export const DMA_ATTR_DEBUGGING_IGNORE_CACHELINES = 1 << 11;
export const DMA_ATTR_REQUIRE_COHERENT = 1 << 12;
export const DMA_ATTR_CC_SHARED = 1 << 13;
/** Every attribute v7.1 defines: bits 0 and 3 are unused (1 << 3 was DMA_ATTR_NON_CONSISTENT). */
const DMA_ATTR_ALL = DMA_ATTR_WEAK_ORDERING | DMA_ATTR_WRITE_COMBINE | DMA_ATTR_NO_KERNEL_MAPPING |
  DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_FORCE_CONTIGUOUS | DMA_ATTR_ALLOC_SINGLE_PAGES | DMA_ATTR_NO_WARN |
  DMA_ATTR_PRIVILEGED | DMA_ATTR_MMIO | DMA_ATTR_DEBUGGING_IGNORE_CACHELINES | DMA_ATTR_REQUIRE_COHERENT |
  DMA_ATTR_CC_SHARED;

/**
 * DMA_MAPPING_ERROR is ~(dma_addr_t)0, which no JavaScript number holds exactly. -1 stands for
 * it: like the kernel's value it is no address a mapping can return, and `~0` reads as -1.
 */
export const DMA_MAPPING_ERROR = -1;

/** errno values the API returns, negated as the kernel returns them. */
export const EIO = 5;
export const ENOMEM = 12;
export const EINVAL = 22;
export const EOPNOTSUPP = 95;
export const EREMOTEIO = 121;

export const U64_MAX = (1n << 64n) - 1n;

/** DMA_BIT_MASK(n): GENMASK_ULL(n - 1, 0), exact as a bigint; DMA_BIT_MASK(64) is all ones. */
export function DMA_BIT_MASK(n: number): bigint {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 64) {
    throw new DmaSimRangeError('DMA_BIT_MASK', 'n', `must be an integer in 0..64, got ${String(n)}`);
  }
  return n === 64 ? U64_MAX : (1n << BigInt(n)) - 1n;
}

/** min_not_zero() for u64 limits. */
export function minNotZero(a: bigint, b: bigint): bigint {
  if (a === 0n) return b;
  if (b === 0n) return a;
  return a < b ? a : b;
}

function refuse(fn: string, arg: string, v: unknown, what: string): never {
  if (typeof v !== 'number') throw new DmaSimTypeError(fn, arg, `must be a number, got ${typeof v}`);
  throw new DmaSimRangeError(fn, arg, `must be ${what}, got ${String(v)}`);
}

/** A direction argument: 0..3 is what a C caller can pass; anything else no kernel could receive. */
export function checkDir(fn: string, dir: unknown): DmaDirection {
  if (dir !== 0 && dir !== 1 && dir !== 2 && dir !== 3) refuse(fn, 'dir', dir, 'a dma_data_direction (0..3)');
  return dir;
}

/** valid_dma_direction(): DMA_NONE is only a debugging placeholder. */
export function validDmaDirection(dir: DmaDirection): boolean {
  return dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE;
}

/** DMA_ATTR_* bits; anything else (unused bits, bits above 31, fractions) no kernel defines. */
export function checkAttrs(fn: string, attrs: unknown): number {
  if (attrs === 0 || attrs === undefined) return 0;
  if (typeof attrs !== 'number' || !Number.isInteger(attrs) || attrs < 0 || attrs > DMA_ATTR_ALL || (attrs & ~DMA_ATTR_ALL) !== 0) {
    refuse(fn, 'attrs', attrs, 'DMA_ATTR_* bits');
  }
  return attrs;
}

export function checkMask(fn: string, mask: unknown): bigint {
  if (typeof mask !== 'bigint') throw new DmaSimTypeError(fn, 'mask', `must be a bigint (DMA_BIT_MASK(n)), got ${typeof mask}`);
  if (mask < 0n) throw new DmaSimRangeError(fn, 'mask', 'must not be negative');
  return mask;
}
