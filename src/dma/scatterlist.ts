// struct scatterlist and struct sg_table (include/linux/scatterlist.h, lib/scatterlist.c).
// A scatterlist is an array of entries; `page_link` is the entry's struct page handle.

import { DmaSimRangeError, DmaSimTypeError } from '../lib/errors.js';
import { currentMachine } from './current.js';
import type { DmaHost } from './device.js';
import { __pa, isLinearMapAddress, isPageHandle, isVmallocAddr, PAGE_SIZE, pageToPfn, pfnToPage, type Page } from '../mm/memory.js';
import { checkAddr, checkIntIn, checkSize } from '../lib/validate.js';

/** sg->dma_flags bits (CONFIG_NEED_SG_DMA_FLAGS): on the first entry, the list was bounced per entry. */
export const SG_DMA_BUS_ADDRESS = 1 << 0;
export const SG_DMA_SWIOTLB = 1 << 1;

export class Scatterlist {
  page_link = 0 as Page;
  offset = 0;
  length = 0;
  dma_address = 0;
  dma_length = 0;
  dma_flags = 0;
}

export interface SgTable {
  readonly sgl: Scatterlist[];
  /** Mapped segments, set by dma_map_sgtable(). */
  nents: number;
  /** Entries in sgl, what the mapping calls are given. */
  readonly orig_nents: number;
}

/** sg_init_table(): `nents` zeroed entries. */
export function sg_init_table(nents: number): Scatterlist[] {
  return newTable('sg_init_table', nents);
}

function newTable(fn: string, nents: number): Scatterlist[] {
  checkIntIn(fn, 'nents', nents, 1, 1 << 20);
  return Array.from({ length: nents }, () => new Scatterlist());
}

/** sg_alloc_table(): a table of `nents` entries, none mapped yet. */
export function sg_alloc_table(nents: number): SgTable {
  return { sgl: newTable('sg_alloc_table', nents), nents: 0, orig_nents: nents };
}

function checkSg(fn: string, sg: unknown): Scatterlist {
  if (!(sg instanceof Scatterlist)) throw new DmaSimTypeError(fn, 'sg', 'must be an entry of a scatterlist from sg_init_table()');
  return sg;
}

/** sg_set_page(). */
export function sg_set_page(sg: Scatterlist, page: Page, len: number, offset: number): void {
  checkSg('sg_set_page', sg);
  if (typeof page !== 'number' || !isPageHandle(page)) throw new DmaSimTypeError('sg_set_page', 'page', 'must be a struct page handle');
  checkSize('sg_set_page', 'len', len);
  checkSize('sg_set_page', 'offset', offset);
  sg.page_link = page;
  sg.offset = offset;
  sg.length = len;
}

/**
 * sg_set_buf(): the entry's page and offset come from virt_to_page(buf), offset_in_page(buf).
 * A linear-map address needs no machine to translate; a kernel-image address is translated by
 * the current machine (see current.ts), as virt_to_page() does for symbols.
 */
export function sg_set_buf(sg: Scatterlist, buf: number, len: number): void {
  checkSg('sg_set_buf', sg);
  checkAddr('sg_set_buf', 'buf', buf);
  checkSize('sg_set_buf', 'len', len);
  // virt_to_page(): the linear map, or the kernel image (a symbol); vmalloc memory has no such page.
  const phys = isLinearMapAddress(buf) ? __pa(buf) : isVmallocAddr(buf) ? -1 : currentMachine('sg_set_buf').translate(buf);
  if (phys < 0) throw new DmaSimRangeError('sg_set_buf', 'buf', `0x${buf.toString(16)} is not a linear-map or kernel-image address backed by RAM`);
  sg_set_page(sg, pfnToPage(Math.floor(phys / PAGE_SIZE)), len, buf % PAGE_SIZE);
}

export function sg_dma_address(sg: Scatterlist): number {
  return checkSg('sg_dma_address', sg).dma_address;
}

export function sg_dma_len(sg: Scatterlist): number {
  return checkSg('sg_dma_len', sg).dma_length;
}

/** sg_phys(): page_to_phys(sg_page(sg)) + sg->offset. */
export function sg_phys(sg: Scatterlist): number {
  checkSg('sg_phys', sg);
  return pageToPfn(sg.page_link) * PAGE_SIZE + sg.offset;
}

/** Checks a list and count handed to a mapping call before anything is mapped. */
export function checkSgList(m: Pick<DmaHost, 'isRam'>, fn: string, sgl: unknown, nents: unknown): Scatterlist[] {
  if (!Array.isArray(sgl) || !sgl.every((s) => s instanceof Scatterlist)) throw new DmaSimTypeError(fn, 'sgl', 'must be a scatterlist from sg_init_table()');
  const n = checkIntIn(fn, 'nents', nents, 0, sgl.length);
  for (let i = 0; i < n; i++) {
    const sg = sgl[i] as Scatterlist;
    if (!m.isRam(sg_phys(sg), sg.length)) throw new DmaSimRangeError(fn, `sgl[${i}]`, 'does not describe RAM (was it set with sg_set_buf or sg_set_page?)');
  }
  return sgl as Scatterlist[];
}
