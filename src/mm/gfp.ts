// GFP flags and zones: include/linux/gfp_types.h (the ___GFP_*_BIT enum as of v7.1-rc1),
// include/linux/gfp.h (gfp_zone, gfpflags_allow_blocking), include/linux/mmzone.h (zone_type)
// and include/linux/mmflag_names.h with lib/vsprintf.c format_flags() for the %pGg rendering.
//
// The values are the kernel's, bit for bit, so a `mode:0x...` in a dmasim log means what it means
// in a real one. Bits 9 and 22 are unused in v7.1 (___GFP_UNUSED_BIT, ___GFP_UNUSED2_BIT; bit 22
// was __GFP_ACCOUNT before).

import { sharpX } from '../lib/vsprintf.js';

/** ___GFP_LAST_BIT: __GFP_BITS_SHIFT. */
const GFP_BITS_SHIFT = 25;

function bit(n: number): number {
  return 2 ** n;
}

export const __GFP_DMA = bit(0);
export const __GFP_HIGHMEM = bit(1);
export const __GFP_DMA32 = bit(2);
export const __GFP_MOVABLE = bit(3);
export const __GFP_RECLAIMABLE = bit(4);
export const __GFP_HIGH = bit(5);
export const __GFP_IO = bit(6);
export const __GFP_FS = bit(7);
export const __GFP_ZERO = bit(8);
export const __GFP_DIRECT_RECLAIM = bit(10);
export const __GFP_KSWAPD_RECLAIM = bit(11);
export const __GFP_WRITE = bit(12);
export const __GFP_NOWARN = bit(13);
export const __GFP_RETRY_MAYFAIL = bit(14);
export const __GFP_NOFAIL = bit(15);
export const __GFP_NORETRY = bit(16);
export const __GFP_MEMALLOC = bit(17);
export const __GFP_COMP = bit(18);
export const __GFP_NOMEMALLOC = bit(19);
export const __GFP_HARDWALL = bit(20);
export const __GFP_THISNODE = bit(21);
export const __GFP_ZEROTAGS = bit(23);
export const __GFP_NO_SHEAF = bit(24);

export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
export const GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE;
/** __GFP_BITS_MASK: every bit below ___GFP_LAST_BIT, unused ones included. */
export const __GFP_BITS_MASK = bit(GFP_BITS_SHIFT) - 1;
/** The bits that mean something: a gfp with any other bit set is garbage a caller may reject. */
export const GFP_VALID_MASK = __GFP_BITS_MASK & ~(bit(9) | bit(22));

export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
/** In v7.1 GFP_NOWAIT carries __GFP_NOWARN: its failures are expected, not reported. */
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
export const GFP_NOIO = __GFP_RECLAIM;
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
export const GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
export const GFP_DMA = __GFP_DMA;
export const GFP_DMA32 = __GFP_DMA32;
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;
export const GFP_TRANSHUGE_LIGHT =
  (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

/** mm/internal.h GFP_RECLAIM_MASK: the bits that control reclaim behaviour. */
export const GFP_RECLAIM_MASK =
  __GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL |
  __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC;
/** mm/internal.h GFP_CONSTRAINT_MASK: the bits that restrict where pages may come from. */
export const GFP_CONSTRAINT_MASK = __GFP_HARDWALL | __GFP_THISNODE;

/** enum zone_type on a 64-bit kernel with ZONE_DMA and ZONE_DMA32 (no ZONE_HIGHMEM exists). */
export const ZONE_DMA = 0;
export const ZONE_DMA32 = 1;
export const ZONE_NORMAL = 2;
export type ZoneId = typeof ZONE_DMA | typeof ZONE_DMA32 | typeof ZONE_NORMAL;
export const MAX_NR_ZONES = 3;
/** The names /proc/zoneinfo and the OOM report use (mmflag_names.h ZONE_TYPE). */
export const zoneNames: readonly string[] = ['DMA', 'DMA32', 'Normal'];

/**
 * gfp_zone(): the highest zone an allocation may use. __GFP_HIGHMEM and __GFP_MOVABLE land in
 * ZONE_NORMAL because a 64-bit kernel has no highmem and dmasim has no ZONE_MOVABLE.
 * __GFP_DMA together with __GFP_DMA32 is GFP_ZONE_BAD in the kernel (a VM_BUG_ON under
 * CONFIG_DEBUG_VM); dmasim takes the stricter zone.
 */
export function gfp_zone(gfp: number): ZoneId {
  if (gfp & __GFP_DMA) return ZONE_DMA;
  if (gfp & __GFP_DMA32) return ZONE_DMA32;
  return ZONE_NORMAL;
}

/** gfpflags_allow_blocking(): only direct reclaim may sleep. */
export function gfpflags_allow_blocking(gfp: number): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0;
}

/**
 * __def_gfpflag_names in its order: composites with the most bits first, so the leftovers show
 * up by themselves (GFP_KERNEL|__GFP_NOWARN rather than __GFP_IO|__GFP_FS|...).
 */
const GFP_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [GFP_TRANSHUGE, 'GFP_TRANSHUGE'],
  [GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
  [GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'],
  [GFP_HIGHUSER, 'GFP_HIGHUSER'],
  [GFP_USER, 'GFP_USER'],
  [GFP_KERNEL, 'GFP_KERNEL'],
  [GFP_NOFS, 'GFP_NOFS'],
  [GFP_ATOMIC, 'GFP_ATOMIC'],
  [GFP_NOIO, 'GFP_NOIO'],
  [GFP_NOWAIT, 'GFP_NOWAIT'],
  [GFP_DMA, 'GFP_DMA'],
  [GFP_DMA32, 'GFP_DMA32'],
  [__GFP_RECLAIM, '__GFP_RECLAIM'],
  [__GFP_DMA, '__GFP_DMA'],
  [__GFP_HIGHMEM, '__GFP_HIGHMEM'],
  [__GFP_DMA32, '__GFP_DMA32'],
  [__GFP_MOVABLE, '__GFP_MOVABLE'],
  [__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'],
  [__GFP_HIGH, '__GFP_HIGH'],
  [__GFP_IO, '__GFP_IO'],
  [__GFP_FS, '__GFP_FS'],
  [__GFP_ZERO, '__GFP_ZERO'],
  [__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
  [__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'],
  [__GFP_WRITE, '__GFP_WRITE'],
  [__GFP_NOWARN, '__GFP_NOWARN'],
  [__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'],
  [__GFP_NOFAIL, '__GFP_NOFAIL'],
  [__GFP_NORETRY, '__GFP_NORETRY'],
  [__GFP_MEMALLOC, '__GFP_MEMALLOC'],
  [__GFP_COMP, '__GFP_COMP'],
  [__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'],
  [__GFP_HARDWALL, '__GFP_HARDWALL'],
  [__GFP_THISNODE, '__GFP_THISNODE'],
  [__GFP_ZEROTAGS, '__GFP_ZEROTAGS'],
];


/**
 * %pGg, lib/vsprintf.c format_flags(): each name whose whole mask is still set is printed and
 * its bits removed; whatever no name covers is printed as a number at the end.
 */
export function formatGfp(gfp: number): string {
  let rest = gfp >>> 0;
  const parts: string[] = [];
  for (const [mask, name] of GFP_FLAG_NAMES) {
    if (rest === 0) break;
    if ((rest & mask) !== mask) continue;
    parts.push(name);
    rest = (rest & ~mask) >>> 0;
  }
  if (rest !== 0) parts.push(sharpX(rest));
  return parts.join('|');
}

/** `%#x(%pGg)`, the way warn_alloc() and kmalloc_fix_flags() print a mode. */
export function formatMode(gfp: number): string {
  return `${sharpX(gfp >>> 0)}(${formatGfp(gfp)})`;
}
