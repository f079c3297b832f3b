// The one ABI shared by the engine (AssemblyScript) and the host (TypeScript).
//
// Both compilers import this file, so a constant can never differ between the two sides of the
// boundary. It holds plain `export const NAME = value` lines (no enums: they would become WASM
// globals, and erasableSyntaxOnly TS forbids them) and one function that both sides evaluate:
// abiFingerprint(). The engine exports its compiled value; the host compares it with its own at
// load, so a core.wasm built from another version of this file is refused at once.
//
// Adding a constant: add it below AND to abiFingerprint(), and bump ABI_VERSION.

export const ABI_VERSION = 2;

// ---- per-RAM-line directory byte (one byte per line of simulated RAM) ----------------------
//
//   bit  7      6       5 ........ 0
//      +------+-------+--------------+
//      | rsvd | DIRTY | way + 1      |   way + 1 == 0: the line is not in the cache
//      +------+-------+--------------+
//
// The directory makes "is this line cached, and is it dirty?" a single byte load, so range
// operations (clean, invalidate, device snoops) scan it 16 lines at a time instead of searching
// every set. The set is implied by the address, so the way is all that needs storing.
export const LD_WAY_MASK = 0x3f;
export const LD_DIRTY = 0x40;
/** Ways are stored as way + 1 in six bits. */
export const MAX_WAYS = 32;

/** Tag of an empty cache slot (tags hold the WASM line number of the cached RAM line). */
export const EMPTY_TAG = -1;

// ---- replacement policies ---------------------------------------------------------------
export const REPL_LRU = 0;
export const REPL_RANDOM = 1;

// ---- line states returned by lineState() --------------------------------------------------
export const LINE_INVALID = 0;
export const LINE_CLEAN = 1;
export const LINE_DIRTY = 2;

// ---- counters: u64 slots in the counter block, indexed by these numbers ---------------------
export const CNT_CACHE_HITS = 0;
export const CNT_CACHE_MISSES = 1;
/** Valid lines pushed out to make room (capacity or eviction pressure). */
export const CNT_EVICTIONS = 2;
/** Dirty lines written to RAM for any reason: clean, clean+invalidate, eviction, snoop. */
export const CNT_DIRTY_WRITTEN_BACK = 3;
/** Dirty lines dropped by an invalidate: the CPU's data is lost. */
export const CNT_DIRTY_DISCARDED = 4;
/** Dirty lines written back by a clean or clean+invalidate (DC CVAC / DC CIVAC). */
export const CNT_LINES_CLEANED = 5;
/** Resident lines dropped by an invalidate or clean+invalidate (DC IVAC / DC CIVAC). */
export const CNT_LINES_INVALIDATED = 6;
/** DC line operations issued, one per line of every range operation, resident or not. */
export const CNT_MAINTENANCE_OPS = 7;
export const CNT_SPECULATIVE_FILLS = 8;
/** Coherent device accesses that found the line in the CPU cache. */
export const CNT_SNOOPS = 9;
/** Bytes moved by CPU memcpy between buffers (swiotlb bounces). */
export const CNT_CPU_COPY_BYTES = 10;
export const CNT_CPU_BYTES_READ = 11;
export const CNT_CPU_BYTES_WRITTEN = 12;
export const CNT_DEV_BYTES_READ = 13;
export const CNT_DEV_BYTES_WRITTEN = 14;
export const CNT_UNCACHED_BYTES = 15;
export const NR_COUNTERS = 16;
/** Bytes of the counter block (u64 each). */
export const COUNTERS_BYTES = 128;

/** A load knob's probability p crosses as the u32 threshold round(p * KNOB_ONE); 0 is off, KNOB_ONE is always. */
export const KNOB_ONE = 4294967295;

// ---- batched ring steps (assembly/ring.ts) ------------------------------------------------
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

// A slot (one per descriptor, RS_BYTES each): the WASM offsets of the packet buffer and of the
// descriptor, and the buffer's DMA address as the driver writes it into the descriptor.
export const RS_BUF = 0;
export const RS_DESC = 4;
export const RS_DMA_LO = 8;
export const RS_DMA_HI = 12;
export const RS_BYTES = 16;

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

/**
 * A fingerprint of every constant above. Written so that it computes the same value as f64 in
 * AssemblyScript and as a JavaScript number: all intermediate values are integers below 2^53.
 */
export function abiFingerprint(): number {
  let h: number = 17;
  h = fold(h, ABI_VERSION);
  h = fold(h, LD_WAY_MASK);
  h = fold(h, LD_DIRTY);
  h = fold(h, MAX_WAYS);
  h = fold(h, EMPTY_TAG);
  h = fold(h, REPL_LRU);
  h = fold(h, REPL_RANDOM);
  h = fold(h, LINE_INVALID);
  h = fold(h, LINE_CLEAN);
  h = fold(h, LINE_DIRTY);
  h = fold(h, CNT_CACHE_HITS);
  h = fold(h, CNT_CACHE_MISSES);
  h = fold(h, CNT_EVICTIONS);
  h = fold(h, CNT_DIRTY_WRITTEN_BACK);
  h = fold(h, CNT_DIRTY_DISCARDED);
  h = fold(h, CNT_LINES_CLEANED);
  h = fold(h, CNT_LINES_INVALIDATED);
  h = fold(h, CNT_MAINTENANCE_OPS);
  h = fold(h, CNT_SPECULATIVE_FILLS);
  h = fold(h, CNT_SNOOPS);
  h = fold(h, CNT_CPU_COPY_BYTES);
  h = fold(h, CNT_CPU_BYTES_READ);
  h = fold(h, CNT_CPU_BYTES_WRITTEN);
  h = fold(h, CNT_DEV_BYTES_READ);
  h = fold(h, CNT_DEV_BYTES_WRITTEN);
  h = fold(h, CNT_UNCACHED_BYTES);
  h = fold(h, NR_COUNTERS);
  h = fold(h, COUNTERS_BYTES);
  h = fold(h, KNOB_ONE);
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
  h = fold(h, RS_BUF);
  h = fold(h, RS_DESC);
  h = fold(h, RS_DMA_LO);
  h = fold(h, RS_DMA_HI);
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
  return h;
}

function fold(h: number, v: number): number {
  return (h * 31 + v + 1000) % 1000000007;
}
