// Bug: the driver reads a received packet without dma_sync_single_for_cpu() first. On a
// non-coherent arm64 device the CPU reads what it cached before the device wrote; where the
// buffer bounces (a 32-bit interconnect, swiotlb=force, an untrusted device) the bytes are still
// in the bounce slot. On a coherent device mapped in place (x86_64) nothing shows, as on hardware.
import {
  dma_set_mask_and_coherent, DMA_BIT_MASK, dma_map_single, dma_mapping_error, dma_unmap_single,
  DMA_FROM_DEVICE, GFP_KERNEL,
} from 'dmasim';

const SIZE = 1500;
const BUF = 2048;

export default async function driver(m, ctx) {
  const dev = m.createDevice({ name: '0000:01:00.0', driver: 'rxbug' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) throw new Error('no usable DMA mask');
  const rx = m.kmalloc(BUF, GFP_KERNEL);
  m.cpu.fill(rx, BUF, 0);
  const rxDma = dma_map_single(dev, rx, BUF, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, rxDma)) throw new Error('RX map failed');
  const incoming = Uint8Array.from({ length: SIZE }, (_, i) => (ctx.seed + i * 7) & 0xff | 1);
  dev.dmaWrite(rxDma, incoming);
  m.cpu.dma_rmb(); // the driver saw the completion (a status word, a register): later loads come after it
  const got = m.cpu.read(rx, SIZE); // BUG: no dma_sync_single_for_cpu(dev, rxDma, BUF, DMA_FROM_DEVICE) first
  const bad = got.findIndex((b, i) => b !== incoming[i]);
  if (bad >= 0) throw new Error(`RX packet: byte ${bad} is 0x${got[bad].toString(16)}, expected 0x${incoming[bad].toString(16)}`);
  dma_unmap_single(dev, rxDma, BUF, DMA_FROM_DEVICE);
  m.kfree(rx);
  m.unbind(dev);
}
