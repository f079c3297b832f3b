// Bug: the receive buffer shares a cache line with a field the CPU writes while the device owns
// the buffer (a status word at offset 0 of the same allocation, the buffer at offset 16). On a
// non-coherent arm64 device the CPU's write makes the line dirty with the buffer's old bytes;
// the unmap's clean+invalidate of that partial line writes them back over what the device
// wrote. Where the buffer bounces, or the device is coherent, the bytes survive.
import {
  dma_set_mask_and_coherent, DMA_BIT_MASK, dma_map_single, dma_mapping_error, dma_unmap_single,
  DMA_FROM_DEVICE, GFP_KERNEL,
} from 'dmasim';

const SIZE = 1536;
const RX_OFFSET = 16; // BUG: the buffer should start on its own dma_get_cache_alignment() boundary

export default async function driver(m, ctx) {
  const dev = m.createDevice({ name: '0000:01:00.0', driver: 'sharebug' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) throw new Error('no usable DMA mask');
  const priv = m.kzalloc(2048, GFP_KERNEL); // struct { u32 status; ...; u8 rx[SIZE] at 16 }
  const rx = priv + RX_OFFSET;
  const rxDma = dma_map_single(dev, rx, SIZE, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, rxDma)) throw new Error('RX map failed');
  m.cpu.writel(priv, 1); // status = RX_POSTED, while the device owns the buffer's first line
  const incoming = Uint8Array.from({ length: SIZE }, (_, i) => (ctx.seed + i * 3) & 0xff | 1);
  dev.dmaWrite(rxDma, incoming);
  m.cpu.dma_rmb(); // the driver saw the completion (a status word, a register): later loads come after it
  dma_unmap_single(dev, rxDma, SIZE, DMA_FROM_DEVICE);
  const got = m.cpu.read(rx, SIZE);
  const bad = got.findIndex((b, i) => b !== incoming[i]);
  if (bad >= 0) throw new Error(`RX packet: byte ${bad} is 0x${got[bad].toString(16)}, expected 0x${incoming[bad].toString(16)}`);
  m.kfree(priv);
  m.unbind(dev);
}
