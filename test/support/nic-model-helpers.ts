// A NIC model on a small arm64 machine, with rings in coherent memory, for the tests of ordering
// (loadReordering, storeReordering) against a device that runs on its own.
import {
  createMachine, DMA_BIT_MASK, dma_alloc_coherent, dma_set_mask_and_coherent, GFP_KERNEL, type Machine, type MachineOptions,
} from '../../src/index.js';
import { NIC_CTRL_RX_EN, NIC_CTRL_TX_EN, NIC_DESC, NIC_DESC_SIZE, NIC_REG, NicModel, type NicModelOptions } from '../../src/devices/index.js';
import type { Device } from '../../src/dma/device.js';
import { MMIO_BASE } from './device-helpers.js';

export interface NicRig {
  m: Machine;
  dev: Device;
  nic: NicModel;
  regs: number;
  ring: { cpu: number; dma: number };
  bufs: { cpu: number; dma: number };
}

export const RING = 8;
export const BUF = 2048;

/** The NIC, one ring (RX or TX) of RING descriptors and RING buffers of BUF bytes, all coherent. */
export async function nicRig(opts: MachineOptions, which: 'rx' | 'tx', model: Partial<NicModelOptions> = {}): Promise<NicRig> {
  const m = await createMachine({ arch: 'arm64', ...opts });
  const nic = new NicModel({ mmioBase: MMIO_BASE, latencyNs: 200, ...model });
  const dev = m.createDevice({ name: 'eth0', driver: 'dmasim-nic', coherent: false, model: nic });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error('mask');
  const ring = dma_alloc_coherent(dev, RING * NIC_DESC_SIZE, GFP_KERNEL);
  const bufs = dma_alloc_coherent(dev, RING * BUF, GFP_KERNEL);
  if (ring === null || bufs === null) throw new Error('dma_alloc_coherent');
  const regs = m.ioremap(MMIO_BASE, nic.mmioSize);
  const R = NIC_REG;
  m.cpu.writeq(regs + (which === 'rx' ? R.RX_BASE : R.TX_BASE), ring.dma_handle);
  m.cpu.writel(regs + (which === 'rx' ? R.RX_SIZE : R.TX_SIZE), RING);
  for (let i = 0; i < RING; i++) {
    const d = ring.cpu_addr + i * NIC_DESC_SIZE;
    m.cpu.writeq(d + NIC_DESC.ADDR, bufs.dma_handle + i * BUF);
    m.cpu.writel(d + NIC_DESC.LEN, BUF);
    m.cpu.writel(d + NIC_DESC.STATUS, 0);
  }
  m.cpu.writel(regs + R.CTRL, which === 'rx' ? NIC_CTRL_RX_EN : NIC_CTRL_TX_EN);
  return { m, dev, nic, regs, ring: { cpu: ring.cpu_addr, dma: ring.dma_handle }, bufs: { cpu: bufs.cpu_addr, dma: bufs.dma_handle } };
}
