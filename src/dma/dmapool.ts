// The DMA pool allocator: mm/dmapool.c as reworked by Keith Busch in 2023 (one LIFO stack of free
// blocks per pool, carved out of pages from dma_alloc_coherent()), with the `pools` sysfs
// attribute and, as an option, the DMAPOOL_DEBUG (CONFIG_SLUB_DEBUG_ON) poison checks.
//
//   pool page: `allocation` bytes of coherent memory, never freed before dma_pool_destroy()
//   +--------+--------+-- ... --+--------+- gap -+--------+-- ... --+
//   | block0 | block1 |         | blockN |       | blockN+1 (next boundary)
//   +--------+--------+-- ... --+--------+-------+--------+-- ... --+
//   offsets 0, size, 2*size, ...; a block that would cross `boundary` starts at the boundary
//
//   a free block, as the kernel leaves it (struct dma_block, two little-endian u64):
//   +0  next_block  the cpu address of the next free block, 0 for NULL
//   +8  dma         the dma address the last dma_pool_free() (or pool_initialise_page) stored
//
// The stack itself lives on the host, as one node per block in typed arrays (nodeNext is
// next_block, top is pool->next_block): popping never reads next_block back. The handle
// dma_pool_alloc() returns is read from the block, as the kernel's `*handle = block->dma` reads
// it. Every push still stores the 16 link bytes into the block
// through the CPU, uncached on a non-coherent arm64 device (the vmap'd remap) and through the
// cache on a coherent one, so a driver that reads or a device that DMAs a freed block sees what
// the kernel would leave there. The host stack and those bytes always agree unless the driver
// writes into a free block: the kernel would then follow a corrupted next_block, dmasim keeps
// its own; a corrupted dma comes back from the next alloc of that block, as on the kernel.
//
// Misuse without DMAPOOL_DEBUG is pushed exactly as the kernel pushes it, because the host stack
// is the kernel's linked list: a double free makes a cycle, so the same block is handed out
// twice; a wrong dma is what the next alloc of that block returns; nr_active may wrap below
// zero. A vaddr that is no block of the pool becomes a node of its own (the link is written
// there, and a later alloc returns it), and one that is not mapped at all is the kernel's oops.

import { Device, type DmaHost } from './device.js';
import { DMA_MAPPING_ERROR } from '../include/dma-mapping.js';
import { DmaSimRangeError, DmaSimTypeError, KernelBug } from '../lib/errors.js';
import { dma_alloc_coherent, dma_free_coherent } from './mapping.js';
import { __GFP_ZERO } from '../mm/gfp.js';
import { isVmallocAddr, PAGE_SIZE } from '../mm/memory.js';
import { KERN_ALERT, KERN_ERR } from '../lib/printk.js';
import { checkAddr, checkBool, checkIntIn, checkSize, checkString, isPowerOfTwo } from '../lib/validate.js';
import { pa, x016 } from '../lib/vsprintf.js';

/** include/linux/poison.h */
const POOL_POISON_FREED = 0xa7;
const POOL_POISON_ALLOCATED = 0xa9;
/** sizeof(struct dma_block): a next pointer and a dma_addr_t. */
const DMA_BLOCK_SIZE = 16;
const INT_MAX = 0x7fff_ffff;
const UINT_MAX = 0xffff_ffff;
/** char name[32], filled by strscpy(). */
const NAME_MAX = 31;
const NULL_NODE = -1;

/** How a node's bytes are reached: the engine's uncached or cached stores, or m.cpu for anything else. */
const LINK_UNCACHED = 0;
const LINK_CACHED = 1;
const LINK_CPU = 2;

export interface DmaPoolOptions {
  /** DMAPOOL_DEBUG (CONFIG_SLUB_DEBUG_ON): poison blocks and check alloc and free. Off, as in most kernels. */
  debug?: boolean;
}

/** The pools of each device, newest first (list_add onto dev->dma_pools). */
const devPools = new WeakMap<Device, DmaPool[]>();

/** struct dma_pool. Fields are the kernel's; callers read them and never write them. */
export class DmaPool {
  readonly name: string;
  readonly dev: Device;
  readonly size: number;
  readonly allocation: number;
  readonly boundary: number;
  readonly debug: boolean;
  nr_blocks = 0;
  /** size_t: a double free can take it below zero, which the kernel prints as a wrapped u64. */
  nr_active = 0;
  nr_pages = 0;
  destroyed = false;

  // The rest is dmasim's own bookkeeping (@internal): the free stack, the pages and the lookup.

  /** Block offsets inside a page, in pool_initialise_page() order. */
  readonly blockOff: readonly number[];
  /**
   * Block index by offset >>> granShift (-1: no block starts there) for single-page pools; every
   * block offset is a multiple of 1 << granShift, the lowest set bit of `size`. Null when the
   * pool's pages hold one block each (size > PAGE_SIZE).
   */
  readonly blockAt: Int16Array | null;
  readonly granShift: number;

  /** pool->next_block, as a node index. */
  top = NULL_NODE;
  nodeCount = 0;
  nodeNext = new Int32Array(0);
  nodeVaddr = new Float64Array(0);
  /** WASM offset of the node's first byte (LINK_UNCACHED / LINK_CACHED nodes only). */
  nodeOff = new Float64Array(0);
  nodeHow = new Uint8Array(0);
  /** Nodes for addresses that are no block of this pool, by address. */
  foreign: Map<number, number> | null = null;

  /** struct dma_page, in creation order (the kernel's page_list is the reverse). */
  readonly pageVaddr: number[] = [];
  readonly pageDma: number[] = [];
  readonly pageFirst: number[] = [];
  /** Page indices ordered by vaddr, with their vaddrs, for dma_pool_free's lookup. */
  readonly sortedVaddr: number[] = [];
  readonly sortedPage: number[] = [];
  /** The page the last free hit (vaddr NaN before the first page), and its place in sortedVaddr. */
  hotVaddr = NaN;
  hotFirst = 0;
  hotSorted = 0;

  /** Where a link is staged for the engine: four u32 words and their bytes. */
  readonly link = new Uint32Array(4);
  readonly linkBytes = new Uint8Array(this.link.buffer);
  readonly m: DmaHost;

  /** @internal use dma_pool_create() */
  constructor(name: string, dev: Device, size: number, boundary: number, debug: boolean) {
    this.name = name.slice(0, NAME_MAX);
    this.dev = dev;
    this.m = dev.machine;
    this.size = size;
    this.allocation = Math.max(size, PAGE_SIZE);
    this.boundary = boundary;
    this.debug = debug;
    this.blockOff = carve(size, this.allocation, boundary);
    const table = this.blockOff.length > 1;
    this.granShift = table ? Math.log2(size & -size) : 0;
    this.blockAt = table ? blockTable(this.blockOff, this.allocation, this.granShift) : null;
  }
}

/** The offsets pool_initialise_page() gives its blocks: a block never crosses a boundary. */
function carve(size: number, allocation: number, boundary: number): number[] {
  const out: number[] = [];
  let nextBoundary = boundary;
  let offset = 0;
  while (offset + size <= allocation) {
    if (offset + size > nextBoundary) {
      offset = nextBoundary;
      nextBoundary += boundary;
      continue;
    }
    out.push(offset);
    offset += size;
  }
  return out;
}

function blockTable(offsets: readonly number[], allocation: number, shift: number): Int16Array {
  const table = new Int16Array(allocation >>> shift).fill(-1);
  offsets.forEach((o, k) => { table[o >>> shift] = k; });
  return table;
}

// ---- validation ----------------------------------------------------------------------------

function checkPool(fn: string, pool: unknown): DmaPool {
  if (!(pool instanceof DmaPool)) throw new DmaSimTypeError(fn, 'pool', 'must be a struct dma_pool from dma_pool_create()');
  if (pool.destroyed) throw new DmaSimRangeError(fn, 'pool', `"${pool.name}" was destroyed: a use-after-free dmasim cannot model`);
  return pool;
}

/** A gfp_t. The test inlines into the hot paths; the call that names the argument runs only on failure. */
function checkGfp(fn: string, gfp: unknown): number {
  return typeof gfp === 'number' && gfp >>> 0 === gfp ? gfp : checkIntIn(fn, 'gfp', gfp, 0, UINT_MAX);
}

/** An address below 2^53, tested without calling out (Number.isSafeInteger is a builtin call). */
function isAddr(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v;
}

/** A dma_addr_t: an address, or DMA_MAPPING_ERROR. */
function checkDma(fn: string, dma: unknown): number {
  return dma === DMA_MAPPING_ERROR || isAddr(dma) ? dma : checkAddr(fn, 'dma', dma);
}

// ---- faults and formatting -------------------------------------------------------------------

/** %zu of a size_t that went below zero. */
function zu(n: number): string {
  return n < 0 ? BigInt.asUintN(64, BigInt(n)).toString() : String(n);
}

/** The first address of [addr, addr + len) that no kernel mapping covers, or -1. */
function firstUnmapped(m: DmaHost, addr: number, len: number): number {
  for (let at = addr; at < addr + len; at = (Math.floor(at / PAGE_SIZE) + 1) * PAGE_SIZE) {
    if (m.translate(at) < 0) return at;
  }
  return -1;
}

/**
 * A kernel access to unmapped memory: the fault handler's first line (arm64 die_kernel_fault(),
 * x86 page_fault_oops()), and the call does not return.
 */
function oops(m: DmaHost, fn: string, addr: number): never {
  const nullPage = addr < PAGE_SIZE;
  const line = m.arch.name === 'x86_64'
    ? nullPage ? `BUG: kernel NULL pointer dereference, address: ${x016(addr)}` : `BUG: unable to handle page fault for address: ${x016(addr)}`
    : `Unable to handle kernel ${nullPage ? 'NULL pointer dereference' : 'paging request'} at virtual address ${x016(addr)}`;
  m.log.printk(KERN_ALERT, line);
  throw new KernelBug(`${fn}: kernel oops at 0x${addr.toString(16)}`);
}

/** Throws the kernel's oops unless all of [addr, addr + len) is mapped. */
function touch(m: DmaHost, fn: string, addr: number, len: number): void {
  const at = firstUnmapped(m, addr, len);
  if (at >= 0) oops(m, fn, at);
}

// ---- the link: struct dma_block written into the block ----------------------------------------

/** 2^-32: a multiply is exact for a power of two, and a tenth the latency of a divide. */
const TWO_POW_MINUS_32 = 2 ** -32;

/** The 16 link bytes {next, dma}, as two little-endian u64 (DMA_MAPPING_ERROR is all ones). */
function stageLink(w: Uint32Array, next: number, dma: number): void {
  w[0] = next >>> 0;
  w[1] = Math.floor(next * TWO_POW_MINUS_32);
  w[2] = dma >>> 0;
  w[3] = Math.floor(dma * TWO_POW_MINUS_32);
}

/** block->dma = dma; block->next_block = next: one 16-byte CPU store into the block. */
function writeLink(pool: DmaPool, node: number, next: number, dma: number): void {
  const m = pool.m;
  const how = pool.nodeHow[node];
  stageLink(pool.link, next, dma);
  if (how === LINK_CACHED) {
    m.port.cpuWriteWords(pool.nodeOff[node] as number, pool.link, 4);
  } else if (how === LINK_UNCACHED && !m.cpu.storesBuffered) {
    m.port.uncachedWriteWords(pool.nodeOff[node] as number, pool.link, 4);
  } else {
    m.cpu.write(pool.nodeVaddr[node] as number, pool.linkBytes.slice());
  }
}

/** `*handle = block->dma`: the u64 at +8 of a popped block, loaded by the CPU. */
function readLinkDma(pool: DmaPool, node: number): number {
  const m = pool.m;
  const how = pool.nodeHow[node];
  const w = pool.link;
  if (how === LINK_CACHED) {
    m.port.cpuReadWords((pool.nodeOff[node] as number) + 8, 2, w, 2);
  } else if (how === LINK_UNCACHED && !m.cpu.storesBuffered) {
    m.port.uncachedReadWords((pool.nodeOff[node] as number) + 8, 2, w, 2);
  } else {
    const b = m.cpu.read((pool.nodeVaddr[node] as number) + 8, 8);
    new Uint8Array(w.buffer, w.byteOffset + 8, 8).set(b);
  }
  const lo = w[2] as number;
  const hi = w[3] as number;
  return lo === UINT_MAX && hi === UINT_MAX ? DMA_MAPPING_ERROR : hi * 2 ** 32 + lo;
}

/** memset(block, byte, pool->size), through the engine when the block is one RAM span. */
function fillBlock(pool: DmaPool, node: number, byte: number): void {
  const m = pool.m;
  const how = pool.nodeHow[node];
  if (how === LINK_CACHED) m.port.cpuFill(pool.nodeOff[node] as number, pool.size, byte);
  else if (how === LINK_UNCACHED && !m.cpu.storesBuffered) m.port.uncachedFill(pool.nodeOff[node] as number, pool.size, byte);
  else {
    touch(m, 'memset', pool.nodeVaddr[node] as number, pool.size);
    m.cpu.fill(pool.nodeVaddr[node] as number, pool.size, byte);
  }
}

// ---- the free stack ------------------------------------------------------------------------

function growNodes(pool: DmaPool, need: number): void {
  if (need <= pool.nodeNext.length) return;
  const cap = Math.max(need, pool.nodeNext.length * 2);
  const next = new Int32Array(cap);
  const vaddr = new Float64Array(cap);
  const off = new Float64Array(cap);
  const how = new Uint8Array(cap);
  next.set(pool.nodeNext);
  vaddr.set(pool.nodeVaddr);
  off.set(pool.nodeOff);
  how.set(pool.nodeHow);
  pool.nodeNext = next;
  pool.nodeVaddr = vaddr;
  pool.nodeOff = off;
  pool.nodeHow = how;
}

/** pool_block_pop(): the top node, or NULL_NODE. */
function pool_block_pop(pool: DmaPool): number {
  const node = pool.top;
  if (node !== NULL_NODE) {
    pool.top = pool.nodeNext[node] as number;
    pool.nr_active++;
  }
  return node;
}

/** pool_block_push(): the link goes into the block, then the node onto the stack. */
function pool_block_push(pool: DmaPool, node: number, dma: number): void {
  const top = pool.top;
  writeLink(pool, node, top === NULL_NODE ? 0 : pool.nodeVaddr[top] as number, dma);
  pool.nodeNext[node] = top;
  pool.top = node;
}

// ---- pages ---------------------------------------------------------------------------------

/**
 * Where the CPU's stores to a pool page land: one run of RAM with one memory type (what
 * dma-direct always returns), or LINK_CPU for anything else, which then goes through m.cpu.
 */
function pageTarget(m: DmaHost, vaddr: number, len: number): { how: number; off: number } {
  const phys = m.translate(vaddr);
  for (let at = PAGE_SIZE; at < len; at += PAGE_SIZE) {
    if (m.translate(vaddr + at) !== phys + at) return { how: LINK_CPU, off: -1 };
  }
  const off = phys < 0 ? -1 : m.physToOffset(phys, len);
  if (off < 0) return { how: LINK_CPU, off: -1 };
  const prot = isVmallocAddr(vaddr) ? m.vm.areaOf(vaddr)?.prot ?? 'normal' : 'normal';
  return { how: prot === 'normal' ? LINK_CACHED : LINK_UNCACHED, off };
}

/**
 * pool_initialise_page(): every block of the new page is linked in ascending order and the run
 * goes on top of the stack (pool_init_page() poisons the page first under DMAPOOL_DEBUG).
 */
function pool_initialise_page(pool: DmaPool, vaddr: number, dma: number): void {
  const m = pool.m;
  const { how, off } = pageTarget(m, vaddr, pool.allocation);
  if (pool.debug) m.cpu.fill(vaddr, pool.allocation, POOL_POISON_FREED);
  const first = pool.nodeCount;
  const n = pool.blockOff.length;
  growNodes(pool, first + n);
  for (let k = 0; k < n; k++) {
    const o = pool.blockOff[k] as number;
    const node = first + k;
    pool.nodeVaddr[node] = vaddr + o;
    pool.nodeOff[node] = off < 0 ? -1 : off + o;
    pool.nodeHow[node] = how;
    pool.nodeNext[node] = k + 1 < n ? node + 1 : pool.top;
  }
  for (let node = first; node < first + n; node++) {
    const next = pool.nodeNext[node] as number;
    writeLink(pool, node, next === NULL_NODE ? 0 : pool.nodeVaddr[next] as number, dma + (pool.blockOff[node - first] as number));
  }
  pool.top = first;
  pool.nodeCount += n;
  pool.nr_blocks += n;
  addPage(pool, vaddr, dma, first);
}

function addPage(pool: DmaPool, vaddr: number, dma: number, first: number): void {
  const index = pool.pageVaddr.length;
  pool.pageVaddr.push(vaddr);
  pool.pageDma.push(dma);
  pool.pageFirst.push(first);
  let at = pool.sortedVaddr.length;
  while (at > 0 && (pool.sortedVaddr[at - 1] as number) > vaddr) at--;
  pool.sortedVaddr.splice(at, 0, vaddr);
  pool.sortedPage.splice(at, 0, index);
  pool.nr_pages++;
}

/** pool_alloc_page(): `allocation` bytes of coherent memory, without __GFP_ZERO. */
function pool_alloc_page(pool: DmaPool, gfp: number): boolean {
  const buf = dma_alloc_coherent(pool.dev, pool.allocation, gfp);
  if (buf === null) return false;
  pool_initialise_page(pool, buf.cpu_addr, buf.dma_handle);
  return true;
}

/** The sorted position of the page whose [vaddr, vaddr + allocation) holds `vaddr`, or -1. */
function findSorted(pool: DmaPool, vaddr: number): number {
  const starts = pool.sortedVaddr;
  // Batches free in (or against) allocation order: try the neighbours of the last page first.
  const up = vaddr - (starts[pool.hotSorted + 1] ?? NaN);
  if (up >= 0 && up < pool.allocation) return pool.hotSorted + 1;
  const down = vaddr - (starts[pool.hotSorted - 1] ?? NaN);
  if (down >= 0 && down < pool.allocation) return pool.hotSorted - 1;
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((starts[mid] as number) <= vaddr) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && vaddr - (starts[lo - 1] as number) < pool.allocation ? lo - 1 : -1;
}

/** The index inside its page of the block that starts at offset o (0 <= o < allocation), or -1. */
function blockIndex(pool: DmaPool, o: number): number {
  const table = pool.blockAt;
  if (table === null) return o === 0 ? 0 : -1;
  return (o & ((1 << pool.granShift) - 1)) === 0 ? table[o >>> pool.granShift] as number : -1;
}

/** The node of the block that starts at `vaddr`, or NULL_NODE when no block of the pool does. */
function nodeAt(pool: DmaPool, vaddr: number): number {
  const o = vaddr - pool.hotVaddr;
  if (o >= 0 && o < pool.allocation) {
    const k = blockIndex(pool, o);
    return k < 0 ? NULL_NODE : pool.hotFirst + k;
  }
  return nodeAtSlow(pool, vaddr);
}

/** nodeAt() outside the last page: find the page and make it the hot one. */
function nodeAtSlow(pool: DmaPool, vaddr: number): number {
  const at = findSorted(pool, vaddr);
  if (at < 0) return NULL_NODE;
  const page = pool.sortedPage[at] as number;
  pool.hotSorted = at;
  pool.hotVaddr = pool.pageVaddr[page] as number;
  pool.hotFirst = pool.pageFirst[page] as number;
  const k = blockIndex(pool, vaddr - pool.hotVaddr);
  return k < 0 ? NULL_NODE : pool.hotFirst + k;
}

/**
 * A node for an address that is no block of this pool: the kernel writes the link there as
 * well (faulting first on block->dma at +8), and a later alloc hands the address out.
 */
function foreignNode(pool: DmaPool, vaddr: number): number {
  const m = pool.m;
  touch(m, 'dma_pool_free', vaddr + 8, 8);
  touch(m, 'dma_pool_free', vaddr, 8);
  pool.foreign ??= new Map();
  let node = pool.foreign.get(vaddr);
  if (node === undefined) {
    node = pool.nodeCount++;
    growNodes(pool, pool.nodeCount);
    pool.nodeVaddr[node] = vaddr;
    pool.nodeOff[node] = -1;
    pool.nodeHow[node] = LINK_CPU;
    pool.foreign.set(vaddr, node);
  }
  return node;
}

// ---- DMAPOOL_DEBUG -------------------------------------------------------------------------

/** print_hex_dump(KERN_ERR, "", DUMP_PREFIX_OFFSET, 16, 1, data, len, true) */
function printHexDump(m: DmaHost, data: Uint8Array): void {
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    m.log.printk(KERN_ERR, `${i.toString(16).padStart(8, '0')}: ${hex.padEnd(49)}${ascii}`);
  }
}

/** pool_check_block(): the poison past the link must be intact; then the block is re-poisoned. */
function pool_check_block(pool: DmaPool, node: number, gfp: number): void {
  const m = pool.m;
  const vaddr = pool.nodeVaddr[node] as number;
  touch(m, 'pool_check_block', vaddr, pool.size);
  const data = m.cpu.read(vaddr, pool.size);
  if (data.subarray(DMA_BLOCK_SIZE).some((b) => b !== POOL_POISON_FREED)) {
    m.log.dev_printk(KERN_ERR, pool.dev, `pool_check_block ${pool.name}, ${x016(vaddr)} (corrupted)`);
    printHexDump(m, data);
  }
  if (!(gfp & __GFP_ZERO)) fillBlock(pool, node, POOL_POISON_ALLOCATED);
}

/** pool_find_page(): by dma address, newest page first. */
function pool_find_page(pool: DmaPool, dma: number): number {
  for (let p = pool.pageDma.length - 1; p >= 0; p--) {
    const start = pool.pageDma[p] as number;
    if (dma >= start && dma - start < pool.allocation) return p;
  }
  return -1;
}

/** pool_block_err(): a dma in no page, or a block already on the stack; else poison it. */
function pool_block_err(pool: DmaPool, vaddr: number, dma: number): boolean {
  const m = pool.m;
  if (pool_find_page(pool, dma) < 0) {
    m.log.dev_printk(KERN_ERR, pool.dev, `pool_block_err ${pool.name}, ${x016(vaddr)}/${pa(dma)} (bad dma)`);
    return true;
  }
  for (let node = pool.top; node !== NULL_NODE; node = pool.nodeNext[node] as number) {
    if (pool.nodeVaddr[node] === vaddr) {
      m.log.dev_printk(KERN_ERR, pool.dev, `pool_block_err ${pool.name}, dma ${pa(dma)} already free`);
      return true;
    }
  }
  touch(m, 'pool_block_err', vaddr, pool.size);
  m.cpu.fill(vaddr, pool.size, POOL_POISON_FREED);
  return false;
}

// ---- the API -------------------------------------------------------------------------------

/**
 * dma_pool_create - Creates a pool of coherent DMA memory blocks.
 * @param name name of pool, for diagnostics (truncated to 31 characters, as strscpy into name[32])
 * @param dev device that will be doing the DMA; null gives null
 * @param size size of the blocks (raised to 16 and rounded up to `align`)
 * @param align alignment of the blocks: 0 or a power of two
 * @param boundary returned blocks won't cross this power of two boundary (0: none)
 * @param opts dmasim: `debug` turns on DMAPOOL_DEBUG for this pool
 * @returns the pool, or null where the kernel returns NULL
 * see: mm/dmapool.c dma_pool_create_node()
 */
export function dma_pool_create(name: string, dev: Device | null, size: number, align: number, boundary: number, opts: DmaPoolOptions = {}): DmaPool | null {
  const fn = 'dma_pool_create';
  checkString(fn, 'name', name);
  if (dev !== null && dev !== undefined && !(dev instanceof Device)) throw new DmaSimTypeError(fn, 'dev', 'must be a struct device from m.createDevice(), or null');
  checkSize(fn, 'size', size);
  checkSize(fn, 'align', align);
  checkSize(fn, 'boundary', boundary);
  if (typeof opts !== 'object' || opts === null) throw new DmaSimTypeError(fn, 'opts', 'must be an object');
  const debug = checkBool(fn, 'opts.debug', opts.debug ?? false);
  if (dev === null || dev === undefined) return null;

  if (align === 0) align = 1;
  else if (!isPowerOfTwo(align)) return null;
  if (size === 0 || size > INT_MAX) return null;
  if (size < DMA_BLOCK_SIZE) size = DMA_BLOCK_SIZE;
  size = Math.ceil(size / align) * align;
  if (size > UINT_MAX) {
    // pool->size is an unsigned int: the kernel would truncate it and loop for ever carving pages.
    throw new DmaSimRangeError(fn, 'align', `${align} rounds the block size past UINT_MAX, which struct dma_pool cannot hold`);
  }
  const allocation = Math.max(size, PAGE_SIZE);
  if (boundary === 0) boundary = allocation;
  else if (boundary < size || !isPowerOfTwo(boundary)) return null;
  boundary = Math.min(boundary, allocation);

  const pool = new DmaPool(name, dev, size, boundary, debug);
  const list = devPools.get(dev);
  if (list === undefined) devPools.set(dev, [pool]);
  else list.unshift(pool);
  return pool;
}

/**
 * dma_pool_alloc - get a block of coherent memory
 * @param pool dma pool that will produce the block
 * @param gfp GFP_* bitmask; __GFP_ZERO zeroes the block
 * @returns the block's kernel virtual address and dma address, or null
 * see: mm/dmapool.c dma_pool_alloc()
 */
export function dma_pool_alloc(pool: DmaPool, gfp: number): { vaddr: number; dma: number } | null {
  const fn = 'dma_pool_alloc';
  checkPool(fn, pool);
  checkGfp(fn, gfp);
  let node = pool_block_pop(pool);
  if (node === NULL_NODE) {
    if (!pool_alloc_page(pool, (gfp & ~__GFP_ZERO) >>> 0)) return null;
    node = pool_block_pop(pool);
  }
  const dma = readLinkDma(pool, node);
  if (pool.debug) pool_check_block(pool, node, gfp);
  if (gfp & __GFP_ZERO) fillBlock(pool, node, 0);
  return { vaddr: pool.nodeVaddr[node] as number, dma };
}

/** dma_pool_zalloc(): dma_pool_alloc() with __GFP_ZERO. */
export function dma_pool_zalloc(pool: DmaPool, gfp: number): { vaddr: number; dma: number } | null {
  checkPool('dma_pool_zalloc', pool);
  return dma_pool_alloc(pool, (checkGfp('dma_pool_zalloc', gfp) | __GFP_ZERO) >>> 0);
}

/**
 * dma_pool_free - put block back into dma pool. Without DMAPOOL_DEBUG nothing is checked.
 * @param pool the dma pool holding the block
 * @param vaddr virtual address of block
 * @param dma dma address of block (stored in the link, and returned by the block's next alloc)
 * see: mm/dmapool.c dma_pool_free()
 */
export function dma_pool_free(pool: DmaPool, vaddr: number, dma: number): void {
  const fn = 'dma_pool_free';
  checkPool(fn, pool);
  if (!isAddr(vaddr)) checkAddr(fn, 'vaddr', vaddr);
  checkDma(fn, dma);
  if (pool.debug && pool_block_err(pool, vaddr, dma)) return;
  let node = nodeAt(pool, vaddr);
  if (node === NULL_NODE) node = foreignNode(pool, vaddr);
  pool_block_push(pool, node, dma);
  pool.nr_active--;
}

/**
 * dma_pool_destroy - destroys a pool of dma memory blocks. A pool with blocks still allocated is
 * reported and leaks every page's coherent memory, as in the kernel.
 * @param pool dma pool that will be destroyed; null is nothing
 * see: mm/dmapool.c dma_pool_destroy()
 */
export function dma_pool_destroy(pool: DmaPool | null): void {
  if (pool === null || pool === undefined) return;
  checkPool('dma_pool_destroy', pool);
  const list = devPools.get(pool.dev) ?? [];
  list.splice(list.indexOf(pool), 1);
  const busy = pool.nr_active !== 0;
  if (busy) pool.m.log.dev_printk(KERN_ERR, pool.dev, `dma_pool_destroy ${pool.name} busy`);
  for (let p = pool.pageVaddr.length - 1; p >= 0 && !busy; p--) {
    dma_free_coherent(pool.dev, pool.allocation, pool.pageVaddr[p] as number, pool.pageDma[p] as number);
  }
  pool.destroyed = true;
}

/**
 * The `pools` device attribute (/sys/devices/.../pools): a header, then one line per pool of the
 * device, newest first. The kernel removes the file with the device's last pool; here the header
 * alone is returned then. Output stops at PAGE_SIZE - 1 bytes, as sysfs_emit_at() stops.
 * see: mm/dmapool.c pools_show()
 */
export function dma_pools_show(dev: Device): string {
  if (!(dev instanceof Device)) throw new DmaSimTypeError('dma_pools_show', 'dev', 'must be a struct device from m.createDevice()');
  let out = 'poolinfo - 0.1\n';
  for (const p of devPools.get(dev) ?? []) {
    out += `${p.name.padEnd(16)} ${zu(p.nr_active).padStart(4)} ${String(p.nr_blocks).padStart(4)} ${String(p.size).padStart(4)} ${String(p.nr_pages).padStart(2)}\n`;
  }
  return out.slice(0, PAGE_SIZE - 1);
}
