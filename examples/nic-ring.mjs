// A correct driver for the NIC model (dmasim/devices): descriptor rings in coherent memory,
// receive buffers mapped once and recycled with syncs, transmit buffers mapped per packet, the
// registers through ioremap(). RX: status, then dma_rmb(), then length; the buffer synced for
// the CPU, read, synced back for the device and handed back to the NIC. TX: address and length,
// dma_wmb(), the OWN bit, then the doorbell with writel() (its __iowmb() makes the descriptor
// visible before the NIC sees the new tail). `dmasim check examples/nic-ring.mjs` finds it
// clean on every configuration; nic-missing-dma-rmb.mjs and nic-writel-relaxed.mjs each leave
// one barrier out of this driver.
import {
  dma_alloc_coherent, dma_free_coherent, dma_map_single, dma_mapping_error, dma_set_mask_and_coherent,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_single,
  DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
} from 'dmasim';
import {
  NicModel, NIC_CTRL_RESET, NIC_CTRL_RX_EN, NIC_CTRL_TX_EN, NIC_DESC, NIC_DESC_DONE, NIC_DESC_OWN, NIC_DESC_SIZE, NIC_REG,
} from 'dmasim/devices';

const MMIO_BASE = 0x1000_0000;
const RING = 16;
const BUF = 2048;
const FRAME = 1000; // shorter than the buffer: the length the NIC writes back differs from ours
const RX_PACKETS = 48;
const TX_PACKETS = 16;
const TIMEOUT_NS = 10_000_000; // 10 ms of simulated time for each wait

function expectFrame(got, want, what) {
  const bad = want.findIndex((b, i) => got[i] !== b);
  if (got.length !== want.length || bad >= 0) throw new Error(`${what}: byte ${bad} differs (length ${got.length})`);
}

/** Waits, in simulated time, until `done()`; the NIC runs meanwhile. */
function waitFor(m, done, what) {
  const deadline = m.now() + TIMEOUT_NS;
  while (!done()) {
    if (m.now() > deadline) throw new Error(`${what}: nothing after ${TIMEOUT_NS / 1e6} ms`);
    m.udelay(1);
  }
}

/**
 * The driver. `bug` leaves one thing out: 'no-dma-rmb' (the length is read without dma_rmb()
 * after the status), 'writel-relaxed' (the TX doorbell rung with writel_relaxed()).
 */
export async function nicRing(m, ctx, bug = 'none') {
  const nic = new NicModel({ mmioBase: MMIO_BASE, latencyNs: 300, jitterNs: 200 });
  const dev = m.createDevice({ name: '0000:02:00.0', driver: 'ringnic', model: nic });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) throw new Error('no usable DMA mask');
  const regs = m.ioremap(MMIO_BASE, nic.mmioSize);
  if (regs === 0) throw new Error('ioremap failed');
  const { cpu } = m;
  cpu.writel(regs + NIC_REG.CTRL, NIC_CTRL_RESET);
  const rxRing = dma_alloc_coherent(dev, RING * NIC_DESC_SIZE, GFP_KERNEL);
  const txRing = dma_alloc_coherent(dev, RING * NIC_DESC_SIZE, GFP_KERNEL);
  if (rxRing === null || txRing === null) throw new Error('no descriptor rings');
  cpu.writeq(regs + NIC_REG.RX_BASE, rxRing.dma_handle);
  cpu.writel(regs + NIC_REG.RX_SIZE, RING);
  cpu.writeq(regs + NIC_REG.TX_BASE, txRing.dma_handle);
  cpu.writel(regs + NIC_REG.TX_SIZE, RING);

  /** Address and length, dma_wmb(), then OWN: the NIC must never see OWN before the fields. */
  const post = (desc, dma, len) => {
    cpu.writeq(desc + NIC_DESC.ADDR, dma);
    cpu.writel(desc + NIC_DESC.LEN, len);
    cpu.dma_wmb();
    cpu.writel(desc + NIC_DESC.STATUS, NIC_DESC_OWN);
  };

  // RX: every slot's buffer mapped once; all but one slot handed to the NIC (HEAD == TAIL is empty).
  const rx = [];
  for (let i = 0; i < RING; i++) {
    const buf = m.kmalloc(BUF, GFP_KERNEL);
    const dma = dma_map_single(dev, buf, BUF, DMA_FROM_DEVICE);
    if (dma_mapping_error(dev, dma)) throw new Error('RX map failed');
    rx.push({ buf, dma, desc: rxRing.cpu_addr + i * NIC_DESC_SIZE });
  }
  for (let i = 0; i < RING - 1; i++) post(rx[i].desc, rx[i].dma, BUF);
  let tail = RING - 1;
  cpu.writel(regs + NIC_REG.CTRL, NIC_CTRL_RX_EN | NIC_CTRL_TX_EN);
  cpu.writel(regs + NIC_REG.RX_TAIL, tail);

  nic.startTraffic(RX_PACKETS, FRAME);
  for (let seq = 0, next = 0; seq < RX_PACKETS; seq++, next = (next + 1) % RING) {
    const s = rx[next];
    waitFor(m, () => !(cpu.readl(s.desc + NIC_DESC.STATUS) & NIC_DESC_OWN), `RX packet ${seq}`);
    if (bug !== 'no-dma-rmb') cpu.dma_rmb(); // the length was written before the status
    const len = cpu.readl(s.desc + NIC_DESC.LEN);
    if (len !== FRAME) throw new Error(`RX packet ${seq}: length ${len}, the NIC received ${FRAME}`);
    dma_sync_single_for_cpu(dev, s.dma, BUF, DMA_FROM_DEVICE);
    expectFrame(cpu.read(s.buf, len), nic.payload(seq, FRAME), `RX packet ${seq}`);
    dma_sync_single_for_device(dev, s.dma, BUF, DMA_FROM_DEVICE);
    // The slot at the tail (free) goes back to the NIC; this one becomes the gap.
    post(rx[tail].desc, rx[tail].dma, BUF);
    tail = (tail + 1) % RING;
    cpu.writel(regs + NIC_REG.RX_TAIL, tail);
  }

  // TX, one packet at a time: each waits for the NIC to send it.
  for (let n = 0; n < TX_PACKETS; n++) {
    const slot = n % RING;
    const desc = txRing.cpu_addr + slot * NIC_DESC_SIZE;
    const payload = Uint8Array.from({ length: FRAME }, (_, i) => (ctx.seed * 7 + n * 31 + i) & 0xff);
    const buf = m.kmalloc(BUF, GFP_KERNEL);
    cpu.write(buf, payload);
    const dma = dma_map_single(dev, buf, FRAME, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, dma)) throw new Error('TX map failed');
    post(desc, dma, FRAME);
    if (bug === 'writel-relaxed') cpu.writel_relaxed(regs + NIC_REG.TX_TAIL, (slot + 1) % RING);
    else cpu.writel(regs + NIC_REG.TX_TAIL, (slot + 1) % RING);
    m.udelay(2); // the NIC fetches the descriptor meanwhile (an interrupt-driven driver would be elsewhere)
    waitFor(m, () => (cpu.readl(desc + NIC_DESC.STATUS) & NIC_DESC_DONE) !== 0, `TX packet ${n}`);
    dma_unmap_single(dev, dma, FRAME, DMA_TO_DEVICE);
    m.kfree(buf);
    expectFrame(nic.sent[n], payload, `TX packet ${n} on the wire`);
  }

  cpu.writel(regs + NIC_REG.CTRL, NIC_CTRL_RESET);
  for (const s of rx) {
    dma_unmap_single(dev, s.dma, BUF, DMA_FROM_DEVICE);
    m.kfree(s.buf);
  }
  dma_free_coherent(dev, RING * NIC_DESC_SIZE, rxRing.cpu_addr, rxRing.dma_handle);
  dma_free_coherent(dev, RING * NIC_DESC_SIZE, txRing.cpu_addr, txRing.dma_handle);
  m.iounmap(regs);
  m.unbind(dev);
}

export default function driver(m, ctx) {
  return nicRing(m, ctx);
}
