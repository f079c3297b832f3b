// The playground's presets: the article's examples, and the classic bugs it warns about. Each is
// a program against dmasim's public API (every export is in scope; an `import ... from 'dmasim'`
// line is allowed and ignored), run in a worker, one step per DMA API call.

export interface Preset {
  readonly name: string;
  readonly code: string;
}

const BOOT = `const m = await createMachine({ arch: 'arm64', seed: 1 });   // non-coherent devices
const dev = m.createDevice({ name: '0000:01:00.0', driver: 'mynic' });
dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
`;

export const PRESETS: readonly Preset[] = [
  {
    name: 'TX: map, the device reads',
    code: `${BOOT}
// The CPU fills a buffer; mapping it cleans the dirty lines to the Point of Coherency.
const tx = m.kmalloc(256, GFP_KERNEL);
m.cpu.write(tx, new TextEncoder().encode('hello, device'));
const h = dma_map_single(dev, tx, 256, DMA_TO_DEVICE);
if (dma_mapping_error(dev, h)) throw new Error('map failed');
console.log(new TextDecoder().decode(dev.dmaRead(h, 13)));
dma_unmap_single(dev, h, 256, DMA_TO_DEVICE);
`,
  },
  {
    name: 'RX: sync for the CPU before reading',
    code: `${BOOT}
const rx = m.kmalloc(256, GFP_KERNEL);
const r = dma_map_single(dev, rx, 256, DMA_FROM_DEVICE);
dev.dmaWrite(r, [1, 2, 3, 4]);
dma_sync_single_for_cpu(dev, r, 256, DMA_FROM_DEVICE);
console.log(Array.from(m.cpu.read(rx, 4)));           // [1, 2, 3, 4]
dma_unmap_single(dev, r, 256, DMA_FROM_DEVICE);
`,
  },
  {
    name: 'Bug: no dma_sync_single_for_cpu (stale read)',
    code: `${BOOT}
const rx = m.kmalloc(256, GFP_KERNEL);
m.cpu.fill(rx, 256, 0);                                  // the lines are in the cache
const r = dma_map_single(dev, rx, 256, DMA_FROM_DEVICE);  // cleaned, still cached
dev.dmaWrite(r, [1, 2, 3, 4]);
console.log(Array.from(m.cpu.read(rx, 4)));           // [0, 0, 0, 0]: stale
dma_unmap_single(dev, r, 256, DMA_FROM_DEVICE);
`,
  },
  {
    name: 'Bug: CPU writes a buffer the device owns',
    code: `${BOOT}
const tx = m.kmalloc(256, GFP_KERNEL);
const h = dma_map_single(dev, tx, 256, DMA_TO_DEVICE);
m.cpu.write(tx, [9, 9, 9, 9]);                          // after the map: the clean is done
console.log(Array.from(dev.dmaRead(h, 4)));            // the device reads what RAM had
dma_unmap_single(dev, h, 256, DMA_TO_DEVICE);
`,
  },
  {
    name: 'Bug: a cacheline shared with CPU data',
    code: `${BOOT}
// A 64-byte line holds the end of a receive buffer and a field the CPU keeps writing.
const obj = m.kmalloc(512, GFP_KERNEL);
const rx = obj;                     // bytes 0..447 for the device
const counter = obj + 448;          // and a CPU field in the same line as the buffer's end
const r = dma_map_single(dev, rx, 448, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
m.cpu.writel(counter, 1);                               // dirties the shared line
dev.dmaWrite(r + 384, new Uint8Array(64).fill(0xab));
dma_unmap_single(dev, r, 448, DMA_FROM_DEVICE);
console.log(Array.from(m.cpu.read(rx + 384, 4)));
`,
  },
  {
    name: 'swiotlb: a bounce buffer (swiotlb=force)',
    code: `const m = await createMachine({ arch: 'arm64', cmdline: 'swiotlb=force', seed: 1 });
const dev = m.createDevice({ name: '0000:02:00.0', driver: 'bnc' });
const buf = m.kmalloc(4096, GFP_KERNEL);
m.cpu.fill(buf, 4096, 0x5a);
const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
console.log('dma', h.toString(16), 'phys', m.virt_to_phys(buf).toString(16));
dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
`,
  },
  {
    name: 'IOMMU: an IOVA per buffer',
    code: `const m = await createMachine({ arch: 'arm64', seed: 1 });
const dev = m.createDevice({ name: '0000:03:00.0', driver: 'gpu', iommu: true });
dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
const a = m.kmalloc(8192, GFP_KERNEL);
const b = m.kmalloc(100, GFP_KERNEL);
const ha = dma_map_single(dev, a, 8192, DMA_BIDIRECTIONAL);
const hb = dma_map_single(dev, b, 100, DMA_TO_DEVICE);
console.log('iova', ha.toString(16), hb.toString(16));
dma_unmap_single(dev, hb, 100, DMA_TO_DEVICE);
`,
  },
  {
    name: 'A program that never ends',
    code: `${BOOT}
const buf = m.kmalloc(64, GFP_KERNEL);
for (;;) dma_unmap_single(dev, dma_map_single(dev, buf, 64, DMA_TO_DEVICE), 64, DMA_TO_DEVICE);
`,
  },
];
