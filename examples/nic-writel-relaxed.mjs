// Bug: nic-ring.mjs rings its TX doorbell with writel_relaxed(). Without writel()'s __iowmb(),
// the store of the descriptor's OWN bit can still be in the CPU's store buffer when the NIC,
// told by the doorbell, fetches the descriptor: it sees no OWN, stops, and the packet is never
// sent. dmasim buffers the stores to uncached memory (load.storeReordering), which is where a
// non-coherent arm64 device's coherent rings live: found there under load, not on x86_64,
// whose stores are not reordered with other stores (its wmb() orders WC memory only).
import { nicRing } from './nic-ring.mjs';

export default function driver(m, ctx) {
  return nicRing(m, ctx, 'writel-relaxed');
}
