// Bug: nic-ring.mjs without the dma_rmb() between reading a received descriptor's status and its
// length. arm64 may perform the length load before the status load, and then reads the length
// the driver posted, not the one the NIC wrote: found on arm64 under load (load.loadReordering),
// coherent device or not. x86_64 does not reorder loads with other loads, which is why its
// dma_rmb() is only a compiler barrier (arch/x86/include/asm/barrier.h): nothing to find there.
import { nicRing } from './nic-ring.mjs';

export default function driver(m, ctx) {
  return nicRing(m, ctx, 'no-dma-rmb');
}
