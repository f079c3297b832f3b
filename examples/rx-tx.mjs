// A correct streaming-DMA driver, written by hand (no device model): the device's side is
// dev.dmaRead/dev.dmaWrite. TX: fill, map, the device reads, unmap. RX: map, the device
// writes and the driver learns of it (a real one by reading a status word or a register, then
// dma_rmb() or readl()'s __iormb(), so that its loads of the data come after), sync for the
// CPU, read, give the buffer back with sync for the device, unmap.
// `dmasim check examples/rx-tx.mjs` finds it clean on every configuration.
import {
  dma_set_mask_and_coherent, DMA_BIT_MASK, dma_map_single, dma_mapping_error, dma_unmap_single,
  dma_sync_single_for_cpu, dma_sync_single_for_device, DMA_TO_DEVICE, DMA_FROM_DEVICE, GFP_KERNEL,
} from 'dmasim';

const PACKETS = 32;
const SIZE = 1500;
const BUF = 2048;

/** A packet's bytes: different for every packet, direction and seed. */
function payload(seed, n, tag) {
  const out = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) out[i] = (seed * 131 + n * 31 + i * 7 + tag) & 0xff;
  return out;
}

function expectSame(got, want, what) {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what}: byte ${i} is 0x${got[i].toString(16)}, expected 0x${want[i].toString(16)}`);
  }
}

export default async function driver(m, ctx) {
  const dev = m.createDevice({ name: '0000:01:00.0', driver: 'rxtx' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) throw new Error('no usable DMA mask');
  const rx = m.kmalloc(BUF, GFP_KERNEL);
  m.cpu.fill(rx, BUF, 0);
  const rxDma = dma_map_single(dev, rx, BUF, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, rxDma)) throw new Error('RX map failed');
  for (let n = 0; n < PACKETS; n++) {
    const tx = m.kmalloc(BUF, GFP_KERNEL);
    const out = payload(ctx.seed, n, 1);
    m.cpu.write(tx, out);
    const txDma = dma_map_single(dev, tx, SIZE, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, txDma)) throw new Error('TX map failed');
    expectSame(dev.dmaRead(txDma, SIZE), out, `TX packet ${n} as the device read it`);
    dma_unmap_single(dev, txDma, SIZE, DMA_TO_DEVICE);
    m.kfree(tx);

    const incoming = payload(ctx.seed, n, 2);
    dev.dmaWrite(rxDma, incoming);
    m.cpu.dma_rmb(); // the driver saw the completion (a status word, a register): later loads come after it
    dma_sync_single_for_cpu(dev, rxDma, BUF, DMA_FROM_DEVICE);
    expectSame(m.cpu.read(rx, SIZE), incoming, `RX packet ${n}`);
    dma_sync_single_for_device(dev, rxDma, BUF, DMA_FROM_DEVICE);
  }
  dma_unmap_single(dev, rxDma, BUF, DMA_FROM_DEVICE);
  m.kfree(rx);
  m.unbind(dev);
}
