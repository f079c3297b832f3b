// writeq() to memory stores its 8 bytes little endian in one CPU access, as cpu.write() of the
// same bytes does: twin machines, one storing by writeq() and one by cpu.write(), end with the
// same RAM, cache lines, counters and clock, on a linear-map buffer (cached), a vmalloc buffer
// (cached, mapped page by page) and a non-coherent device's dma_alloc_coherent() buffer
// (uncached remap, arm64 arch_dma_prep_coherent()), for values up to 2^53 - 1.
import { describe, expect, it } from 'vitest';
import { createMachine, dma_alloc_coherent, GFP_KERNEL, type Machine } from '../../src/index.js';

const VALUES = [0, 1, 0xffff_ffff, 0x1_0000_0000, 0x1234_5678_9abc, Number.MAX_SAFE_INTEGER];

function bytesOf(value: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = value; i < 8; i++, v = Math.floor(v / 256)) out.push(v % 256);
  return out;
}

type Target = (m: Machine) => number;
const targets: Record<string, Target> = {
  'kmalloc (linear map)': (m) => m.kmalloc(256, GFP_KERNEL),
  'vmalloc (cached)': (m) => m.vmalloc(8192) + 4096 - 64,
  'dma_alloc_coherent, non-coherent device (uncached)': (m) => {
    const dev = m.createDevice({ name: '0000:03:00.0', driver: 'wq' });
    return dma_alloc_coherent(dev, 4096, GFP_KERNEL)?.cpu_addr ?? Number.NaN;
  },
};

function state(m: Machine, ptr: number) {
  const phys = m.translate(ptr);
  return { ram: Array.from(m.cpu.read(ptr, 64)), line: m.cache.lineState(phys), now: m.now(), stats: m.stats() };
}

describe('writeq() stores as cpu.write() of its 8 bytes', () => {
  for (const [name, target] of Object.entries(targets)) {
    it(name, async () => {
      const a = await createMachine({ arch: 'arm64', seed: 3 });
      const b = await createMachine({ arch: 'arm64', seed: 3 });
      const pa = target(a);
      const pb = target(b);
      expect(pa).toBe(pb);
      VALUES.forEach((v, i) => {
        a.cpu.writeq(pa + 8 * i, v);
        b.cpu.write(pb + 8 * i, bytesOf(v));
      });
      expect(state(a, pa)).toEqual(state(b, pb));
      expect(VALUES.map((_, i) => Array.from(a.cpu.read(pa + 8 * i, 8)))).toEqual(VALUES.map(bytesOf));
    });
  }
});
