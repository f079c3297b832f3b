// Fixtures for the device-model tests: a machine with a memcpy engine attached, its registers
// ioremap()ed, and small accessors for the engine's descriptors.
import { createMachine, DMA_BIT_MASK, dma_alloc_coherent, dma_set_mask_and_coherent, GFP_KERNEL, type Machine, type MachineOptions } from '../../src/index.js';
import {
  MemcpyEngine, MEMCPY_CTRL_ENABLE, MEMCPY_DESC, MEMCPY_DESC_INT, MEMCPY_DESC_SIZE, MEMCPY_REG, type MemcpyEngineOptions,
} from '../../src/devices/index.js';
import type { Device } from '../../src/dma/device.js';

/** Where the test machines put the first device's registers (below RAM at 0x4000_0000 on arm64). */
export const MMIO_BASE = 0x1000_0000;

export interface EngineRig {
  m: Machine;
  dev: Device;
  engine: MemcpyEngine;
  regs: number;
}

export async function memcpyRig(opts: MachineOptions = {}, engine: Partial<MemcpyEngineOptions> = {}, coherent = false): Promise<EngineRig> {
  const m = await createMachine({ arch: 'arm64', seed: 3, ...opts });
  const model = new MemcpyEngine({ mmioBase: MMIO_BASE, ...engine });
  const dev = m.createDevice({ name: 'dma0', driver: 'dmasim-memcpy', coherent, model });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error('dma_set_mask_and_coherent failed');
  const regs = m.ioremap(MMIO_BASE, model.mmioSize);
  return { m, dev, engine: model, regs };
}

export { MEMCPY_REG };

/** A ring of `n` descriptors in coherent memory, programmed into the engine and enabled. */
export function memcpyRing(rig: EngineRig, n: number): { cpu: number; dma: number } {
  const { m, dev, regs } = rig;
  const ring = dma_alloc_coherent(dev, n * MEMCPY_DESC_SIZE, GFP_KERNEL);
  if (ring === null) throw new Error('dma_alloc_coherent failed');
  m.cpu.writeq(regs + MEMCPY_REG.DESC_BASE, ring.dma_handle);
  m.cpu.writel(regs + MEMCPY_REG.DESC_COUNT, n);
  m.cpu.writel(regs + MEMCPY_REG.CTRL, MEMCPY_CTRL_ENABLE);
  return { cpu: ring.cpu_addr, dma: ring.dma_handle };
}

/** Fill descriptor `i` of the ring: copy len bytes from src to dst (DMA addresses). */
export function memcpyDesc(m: Machine, ring: { cpu: number }, i: number, src: number, dst: number, len: number, ctrl = MEMCPY_DESC_INT): void {
  const d = ring.cpu + i * MEMCPY_DESC_SIZE;
  m.cpu.writeq(d + MEMCPY_DESC.SRC, src);
  m.cpu.writeq(d + MEMCPY_DESC.DST, dst);
  m.cpu.writel(d + MEMCPY_DESC.LEN, len);
  m.cpu.writel(d + MEMCPY_DESC.CTRL, ctrl);
  m.cpu.writel(d + MEMCPY_DESC.STATUS, 0);
}
