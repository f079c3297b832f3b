// The ABI of the batched ring steps (assembly/ring.ts): the NIC descriptor, the ring block the
// host fills, its slots and RAM banks, and the per-packet operations. Like abi.ts, both compilers
// import this file, and the engine exports abiRingFingerprint(), which the host compares with its
// own at load (src/engine/core.ts), so a core.wasm built from another version is refused.
//
// Adding a constant: add it below AND to abiRingFingerprint(), and bump ABI_RING_VERSION.

export const ABI_RING_VERSION = 3;

// ---- the NIC descriptor -------------------------------------------------------------------
//
// A NIC descriptor (16 bytes, little endian), as the workload's driver and device agree on it:
//
//   0        4        8        12       16
//   +--------+--------+--------+--------+
//   | addr lo| addr hi|  len   | flags  |   flags: OWN (the device's), DONE (handed back)
//   +--------+--------+--------+--------+
export const DESC_ADDR_LO = 0;
export const DESC_ADDR_HI = 4;
export const DESC_LEN = 8;
export const DESC_FLAGS = 12;
export const DESC_BYTES = 16;
export const DESC_OWN = 1;
export const DESC_DONE = 2;

/**
 * Packet `seq`'s payload is the window of the workload's pattern at (seq * STRIDE) % PERIOD, a
 * prime period, so that no two packets a ring apart carry the same bytes.
 */
export const NIC_PAYLOAD_STRIDE = 37;
export const NIC_PAYLOAD_PERIOD = 251;
/** TX packet seq carries the payload of seq + NIC_TX_SEQ_BASE, so TX and RX bytes differ. */
export const NIC_TX_SEQ_BASE = 0x80;

// A ring block (u32 fields), written by the host, read by the ring steps; the last three are
// results the steps add to:
//
//   0       4      8     12     16       20        24    28     32      36        40         44     48
//   +-------+------+-----+------+--------+---------+-----+------+-------+---------+----------+------+
//   | slots | size | len | flags| pattern| seq base| tmp | banks| nbanks| verified| corrupted| faults|
//   +-------+------+-----+------+--------+---------+-----+------+-------+---------+----------+------+
export const RB_SLOTS = 0;
export const RB_SIZE = 4;
export const RB_LEN = 8;
export const RB_FLAGS = 12;
export const RB_PATTERN = 16;
export const RB_SEQ_BASE = 20;
export const RB_TMP = 24;
export const RB_BANKS = 28;
export const RB_NBANKS = 32;
export const RB_VERIFIED = 36;
export const RB_CORRUPTED = 40;
export const RB_FAULTS = 44;
export const RB_BYTES = 48;
/** RB_FLAGS: the CPU reaches the descriptors through the cache (else through an uncached alias). */
export const RING_DESC_CACHED = 1;
/** RB_FLAGS: the device snoops the CPU cache (dev_is_dma_coherent()). */
export const RING_COHERENT = 2;
/**
 * RB_FLAGS: the device's buffer access lands where the slot's RS_BUS says (the host translated
 * the DMA address, behind an IOMMU), not where the RAM banks put the descriptor's address.
 */
export const RING_BUS_TABLE = 4;
/** RB_FLAGS: the slots' RS_BOUNCE bits ask for swiotlb's bounce copies in the steps. */
export const RING_BOUNCE = 8;

// A slot (one per descriptor, RS_BYTES each): the WASM offsets of the packet buffer and of the
// descriptor, the buffer's DMA address as the driver writes it into the descriptor, the WASM
// offset that address reaches, as an i32 (-1: the device's access faults; the device goes there
// with RING_BUS_TABLE, else where the RAM banks put the descriptor's address), and (with
// RING_BOUNCE) the bounce copies between the buffer and that offset the slot's next step makes.
export const RS_BUF = 0;
export const RS_DESC = 4;
export const RS_DMA_LO = 8;
export const RS_DMA_HI = 12;
export const RS_BUS = 16;
export const RS_BOUNCE = 20;
export const RS_BYTES = 24;

// A RAM bank as the bus sees it (RBANK_BYTES each): physical base (lo, hi), size, WASM offset.
export const RBANK_BASE_LO = 0;
export const RBANK_BASE_HI = 4;
export const RBANK_SIZE = 8;
export const RBANK_OFFSET = 12;
export const RBANK_BYTES = 16;

// What a step does per packet, chosen by the host (the arch's rules, the driver's mode and bug):
/** dcache_inval_poc over the buffer (arch_sync_dma_for_cpu, not DMA_TO_DEVICE). */
export const RING_OP_INVAL = 1;
/** The CPU writes the packet's payload into the buffer. */
export const RING_OP_FILL = 2;
/** dcache_clean_poc over the buffer (arch_sync_dma_for_device). */
export const RING_OP_CLEAN = 4;
/** The CPU reads the buffer through the cache and checks the payload. */
export const RING_OP_VERIFY = 8;
/** The device writes the payload (RX); without it, it reads and checks it (TX). */
export const RING_OP_DEV_WRITE = 16;

// RS_BOUNCE bits: swiotlb_bounce()'s memcpy (copy.ts cpuCopy()) of the packet.
/** From the bounce slot (RS_BUS) to the buffer: before the payload is written (post) or checked (reap). */
export const BOUNCE_IN = 1;
/** From the buffer to the bounce slot: after the payload is written, before the clean (post). */
export const BOUNCE_OUT = 2;

/**
 * A fingerprint of every constant above, computed as abi.ts's abiFingerprint() is (integers below
 * 2^53, the same value as f64 in AssemblyScript and as a JavaScript number).
 */
export function abiRingFingerprint(): number {
  let h: number = 17;
  h = fold(h, ABI_RING_VERSION);
  h = fold(h, DESC_ADDR_LO);
  h = fold(h, DESC_ADDR_HI);
  h = fold(h, DESC_LEN);
  h = fold(h, DESC_FLAGS);
  h = fold(h, DESC_BYTES);
  h = fold(h, DESC_OWN);
  h = fold(h, DESC_DONE);
  h = fold(h, NIC_PAYLOAD_STRIDE);
  h = fold(h, NIC_PAYLOAD_PERIOD);
  h = fold(h, NIC_TX_SEQ_BASE);
  h = fold(h, RB_SLOTS);
  h = fold(h, RB_SIZE);
  h = fold(h, RB_LEN);
  h = fold(h, RB_FLAGS);
  h = fold(h, RB_PATTERN);
  h = fold(h, RB_SEQ_BASE);
  h = fold(h, RB_TMP);
  h = fold(h, RB_BANKS);
  h = fold(h, RB_NBANKS);
  h = fold(h, RB_VERIFIED);
  h = fold(h, RB_CORRUPTED);
  h = fold(h, RB_FAULTS);
  h = fold(h, RB_BYTES);
  h = fold(h, RING_DESC_CACHED);
  h = fold(h, RING_COHERENT);
  h = fold(h, RING_BUS_TABLE);
  h = fold(h, RING_BOUNCE);
  h = fold(h, RS_BUF);
  h = fold(h, RS_DESC);
  h = fold(h, RS_DMA_LO);
  h = fold(h, RS_DMA_HI);
  h = fold(h, RS_BUS);
  h = fold(h, RS_BOUNCE);
  h = fold(h, RS_BYTES);
  h = fold(h, RBANK_BASE_LO);
  h = fold(h, RBANK_BASE_HI);
  h = fold(h, RBANK_SIZE);
  h = fold(h, RBANK_OFFSET);
  h = fold(h, RBANK_BYTES);
  h = fold(h, RING_OP_INVAL);
  h = fold(h, RING_OP_FILL);
  h = fold(h, RING_OP_CLEAN);
  h = fold(h, RING_OP_VERIFY);
  h = fold(h, RING_OP_DEV_WRITE);
  h = fold(h, BOUNCE_IN);
  h = fold(h, BOUNCE_OUT);
  return h;
}

function fold(h: number, v: number): number {
  return (h * 31 + v + 1000) % 1000000007;
}
