// dmatest: drivers/dma/dmatest.c's memcpy test against the memcpy DMA engine model, with its
// module parameters and its log lines. One thread on one channel ("dma0chan0-copy0"): each test
// fills a source and a destination buffer with dmatest's patterns, maps them (dma_map_page(),
// DMA_TO_DEVICE and DMA_BIDIRECTIONAL as dmaengine_get_unmap_data() users do), submits one copy
// of `len` bytes from src_off to dst_off, waits for the completion interrupt (or polls), unmaps,
// and counts the bytes that are not what dmatest_verify() expects. The summary is the kernel's:
// "%s: summary %u tests, %u failures %llu.%02llu iops %llu KB/s (%d)", over simulated time
// without the fill and compare time, as dmatest_func() measures it.
//
// Differences: `iterations` 0 (the kernel's "until stopped") is refused, since nothing stops a
// simulated thread; one thread and one channel; no xor/pq; the engine's latency model gives the
// time.

import {
  DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_TO_DEVICE, dma_alloc_coherent, dma_map_page, dma_mapping_error,
  dma_set_mask_and_coherent, dma_unmap_page, GFP_KERNEL, IRQ_HANDLED, IRQ_NONE, PAGE_SIZE,
  type Machine,
} from '../index.js';
import {
  MEMCPY_CTRL_ENABLE, MEMCPY_DESC, MEMCPY_DESC_ERR, MEMCPY_DESC_INT, MEMCPY_DESC_SIZE, MEMCPY_REG, MEMCPY_STATUS_DONE,
  MEMCPY_STATUS_ERR, MemcpyEngine,
} from '../devices/index.js';
import { Xorshift32 } from '../lib/random.js';
import { checkBool, checkIntIn, checkOptions } from '../lib/validate.js';
import { checkMachine } from './options.js';

/** dmatest's module parameters (drivers/dma/dmatest.c), as `dmasim dmatest` takes them. */
export interface DmatestOptions {
  /** test_buf_size: size of the memcpy test buffer (default 16384). */
  test_buf_size: number;
  /** iterations: tests to run (the kernel's 0, "until stopped", is not accepted). */
  iterations: number;
  /** noverify: skip the data check. */
  noverify: boolean;
  /** norandom: copy the whole buffer at offset 0 instead of a random length and offsets. */
  norandom: boolean;
  /** alignment: log2 of the required alignment of offsets and length; -1: the engine's (0). */
  alignment: number;
  /** transfer_size: a fixed length in bytes (0: random up to test_buf_size). */
  transfer_size: number;
  /** polled: wait by polling the engine instead of the completion interrupt. */
  polled: boolean;
  /** timeout: ms to wait for a completion before "test timed out". */
  timeout: number;
  /** The engine's per-descriptor latency, and its bandwidth. */
  latencyNs: number;
  bytesPerNs: number;
}

export const DMATEST_DEFAULTS: Readonly<DmatestOptions> = {
  test_buf_size: 16384, iterations: 100, noverify: false, norandom: false, alignment: -1, transfer_size: 0, polled: false, timeout: 3000,
  latencyNs: 500, bytesPerNs: 4,
};

export interface DmatestResult {
  tests: number;
  failures: number;
  /** The run's simulated microseconds (fill and compare excluded) and bytes copied. */
  runtimeUs: number;
  totalLen: number;
  /** The dmatest lines this run logged (also in m.dmesg()). */
  lines: string[];
}

const THREAD = 'dma0chan0-copy0';
/** PATTERN_* of dmatest.c. */
const PATTERN_SRC = 0x80;
const PATTERN_DST = 0x00;
const PATTERN_COPY = 0x40;
const PATTERN_OVERWRITE = 0x20;
const PATTERN_COUNT_MASK = 0x1f;
/** FIXPT_SHIFT and the helpers of dmatest_persec(). */
const FIXPT_SHIFT = 8n;

/** dmatest_persec(): val per second over runtime µs, in 24.8 fixed point. */
export function dmatest_persec(runtime: bigint, val: bigint): bigint {
  if (runtime <= 0n) return 0n;
  let perSec = 1_000_000n;
  while (runtime > 0xffff_ffffn) {
    runtime >>= 1n;
    perSec <<= 1n;
  }
  return ((perSec * val) << FIXPT_SHIFT) / runtime;
}

/** The summary line's iops and KB/s fields. */
export function dmatestRates(runtimeUs: number, tests: number, totalLen: number): { iops: string; kbs: string } {
  const iops = dmatest_persec(BigInt(Math.floor(runtimeUs)), BigInt(tests));
  const frac = ((iops & ((1n << FIXPT_SHIFT) - 1n)) * 100n) >> FIXPT_SHIFT;
  const kbs = dmatest_persec(BigInt(Math.floor(runtimeUs)), BigInt(totalLen) >> 10n) >> FIXPT_SHIFT;
  return { iops: `${iops >> FIXPT_SHIFT}.${frac.toString().padStart(2, '0')}`, kbs: kbs.toString() };
}

/** dmatest_init_srcs()/dmatest_init_dsts(): the pattern bytes of a buffer, copy region marked. */
function pattern(len: number, start: number, end: number, src: boolean): Uint8Array {
  const b = new Uint8Array(len);
  const base = src ? PATTERN_SRC : PATTERN_DST;
  for (let i = 0; i < len; i++) {
    const inside = i >= start && i < end;
    const mark = src ? (inside ? PATTERN_COPY : 0) : inside ? PATTERN_OVERWRITE : 0;
    b[i] = base | mark | (~i & PATTERN_COUNT_MASK);
  }
  return b;
}

/**
 * dmatest's parameters with their defaults, each checked (the kernel's module_param ranges, and
 * iterations of at least one): a DmaSimError naming `fn` and the option otherwise.
 */
export function checkDmatestOptions(fn: string, opts: unknown): DmatestOptions {
  const o = { ...DMATEST_DEFAULTS, ...checkOptions(fn, 'opts', opts, Object.keys(DMATEST_DEFAULTS)) } as DmatestOptions;
  for (const flag of ['noverify', 'norandom', 'polled'] as const) checkBool(fn, flag, o[flag]);
  checkIntIn(fn, 'test_buf_size', o.test_buf_size, 1, 1 << 22);
  checkIntIn(fn, 'iterations', o.iterations, 1, 1 << 24);
  checkIntIn(fn, 'alignment', o.alignment, -1, 12);
  checkIntIn(fn, 'transfer_size', o.transfer_size, 0, o.test_buf_size);
  checkIntIn(fn, 'timeout', o.timeout, 1, 1 << 30);
  return o;
}

/** Runs dmatest on a machine with one memcpy engine; returns the counts and the log lines. */
export function runDmatest(m: Machine, opts: Partial<DmatestOptions> = {}): DmatestResult {
  checkMachine('runDmatest', m);
  const o = checkDmatestOptions('runDmatest', opts);
  const { test_buf_size: bufSize, iterations, alignment: alignLog } = o;
  const align = alignLog <= 0 ? 1 : 1 << alignLog;
  const log = (text: string): string => {
    m.log.pr_info(`dmatest: ${text}`);
    return `dmatest: ${text}`;
  };
  const lines: string[] = [];

  const engine = new MemcpyEngine({ mmioBase: 0x1000_0000, latencyNs: o.latencyNs, bytesPerNs: o.bytesPerNs });
  const dev = m.createDevice({ name: 'dma0', driver: 'dmasim-memcpy', model: engine });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error('dmatest: no 64-bit DMA');
  const regs = m.ioremap(0x1000_0000, engine.mmioSize);
  // Two descriptors: HEAD == TAIL is an empty ring, so a ring of one could never hold a copy.
  const ring = dma_alloc_coherent(dev, 2 * MEMCPY_DESC_SIZE, GFP_KERNEL);
  if (ring === null) throw new Error('dmatest: dma_alloc_coherent failed');
  let completions = 0;
  if (!o.polled) {
    m.request_irq(engine.irq, () => {
      const st = m.cpu.readl(regs + MEMCPY_REG.STATUS);
      if (!(st & (MEMCPY_STATUS_DONE | MEMCPY_STATUS_ERR))) return IRQ_NONE;
      m.cpu.writel(regs + MEMCPY_REG.STATUS, st);
      completions++;
      return IRQ_HANDLED;
    }, 'dma0chan0', dev);
  }
  m.cpu.writeq(regs + MEMCPY_REG.DESC_BASE, ring.dma_handle);
  m.cpu.writel(regs + MEMCPY_REG.DESC_COUNT, 2);
  m.cpu.writel(regs + MEMCPY_REG.INT_MASK, o.polled ? 0 : MEMCPY_STATUS_DONE | MEMCPY_STATUS_ERR);
  m.cpu.writel(regs + MEMCPY_REG.CTRL, MEMCPY_CTRL_ENABLE);
  const pages = Math.ceil(bufSize / PAGE_SIZE);
  const src = m.kmalloc(pages * PAGE_SIZE, GFP_KERNEL);
  const dst = m.kmalloc(pages * PAGE_SIZE, GFP_KERNEL);
  lines.push(log('Added 1 threads using dma0chan0'));
  lines.push(log('Started 1 threads using dma0chan0'));

  // Lengths and offsets: dmatest uses get_random_u32(); ours derive from the seed.
  const gen = new Xorshift32(m.seed ^ 0x646d6174);
  const rand = (): number => gen.next();
  let tests = 0;
  let failures = 0;
  let totalLen = 0;
  let excluded = 0;
  const t0 = m.now();
  for (let n = 0; n < iterations; n++) {
    tests++;
    let len = o.transfer_size > 0 ? o.transfer_size : o.norandom ? bufSize : (rand() % bufSize) + 1;
    len = Math.max(align, len - (len % align));
    const offset = (): number => {
      const off = o.norandom ? 0 : rand() % (bufSize - len + 1);
      return off - (off % align);
    };
    const so = offset();
    const doff = offset();
    totalLen += len;
    // dmatest_init_srcs/dsts: filled by the CPU; not counted in the runtime.
    let t = m.now();
    const sBytes = pattern(bufSize, so, so + len, true);
    const dBytes = pattern(bufSize, doff, doff + len, false);
    if (!o.noverify) {
      m.cpu.write(src, sBytes);
      m.cpu.write(dst, dBytes);
    }
    excluded += m.now() - t;
    const s = dma_map_page(dev, m.virt_to_page(src), 0, bufSize, DMA_TO_DEVICE);
    const d = dma_map_page(dev, m.virt_to_page(dst), 0, bufSize, DMA_BIDIRECTIONAL);
    if (dma_mapping_error(dev, s) || dma_mapping_error(dev, d)) {
      lines.push(log(`${THREAD}: result #${tests}: 'src mapping error' with src_off=0x${so.toString(16)} dst_off=0x${doff.toString(16)} len=0x${len.toString(16)} (-12)`));
      failures++;
      continue;
    }
    const desc = ring.cpu_addr + (n % 2) * MEMCPY_DESC_SIZE;
    m.cpu.writeq(desc + MEMCPY_DESC.SRC, s + so);
    m.cpu.writeq(desc + MEMCPY_DESC.DST, d + doff);
    m.cpu.writel(desc + MEMCPY_DESC.LEN, len);
    m.cpu.writel(desc + MEMCPY_DESC.CTRL, MEMCPY_DESC_INT);
    m.cpu.writel(desc + MEMCPY_DESC.STATUS, 0);
    const before = completions;
    m.cpu.writel(regs + MEMCPY_REG.TAIL, (n + 1) % 2);
    const deadline = m.now() + o.timeout * 1e6;
    let status = 0;
    while (m.now() < deadline) {
      status = m.cpu.readl(desc + MEMCPY_DESC.STATUS);
      if (o.polled ? status !== 0 : completions !== before) break;
      m.udelay(1);
    }
    dma_unmap_page(dev, s, bufSize, DMA_TO_DEVICE);
    dma_unmap_page(dev, d, bufSize, DMA_BIDIRECTIONAL);
    const args = `with src_off=0x${so.toString(16)} dst_off=0x${doff.toString(16)} len=0x${len.toString(16)}`;
    if (m.now() >= deadline) {
      lines.push(log(`${THREAD}: result #${tests}: 'test timed out' ${args} (0)`));
      failures++;
      continue;
    }
    if (m.cpu.readl(desc + MEMCPY_DESC.STATUS) & MEMCPY_DESC_ERR) {
      lines.push(log(`${THREAD}: result #${tests}: 'completion error status' ${args} (0)`));
      failures++;
      continue;
    }
    if (o.noverify) continue;
    // dmatest_verify() over src (unchanged) and dst (copy inside, pattern outside).
    t = m.now();
    const gotS = m.cpu.read(src, bufSize);
    const gotD = m.cpu.read(dst, bufSize);
    let errors = 0;
    for (let i = 0; i < bufSize; i++) {
      if (gotS[i] !== sBytes[i]) errors++;
      const want = i >= doff && i < doff + len ? sBytes[so + (i - doff)] : dBytes[i];
      if (gotD[i] !== want) errors++;
    }
    excluded += m.now() - t;
    if (errors > 0) {
      lines.push(log(`${THREAD}: result #${tests}: 'data error' ${args} (${errors})`));
      failures++;
    }
  }
  const runtimeUs = Math.max(0, (m.now() - t0 - excluded) / 1000);
  const { iops, kbs } = dmatestRates(runtimeUs, tests, totalLen);
  lines.push(log(`${THREAD}: summary ${tests} tests, ${failures} failures ${iops} iops ${kbs} KB/s (0)`));
  return { tests, failures, runtimeUs, totalLen, lines };
}
