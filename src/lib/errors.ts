// Typed errors for input no kernel could receive, and for faults of the simulated hardware.
//
// The kernel tolerates a lot of misuse (it WARNs, returns DMA_MAPPING_ERROR, reports through
// dma-debug); dmasim reproduces that. What it cannot reproduce is a call that no C caller could
// make at all (a NaN size, an address in no bank): those throw a DmaSimError naming the function
// and the argument, before anything in the machine has changed.

/** Fields shared by both flavours of DmaSimError. */
interface DmaSimErrorFields {
  /** The public function that refused the call, e.g. `dma_map_single`. */
  readonly fn: string;
  /** The argument that was refused, e.g. `size`. */
  readonly arg: string;
}

function message(fn: string, arg: string, why: string): string {
  return `${fn}: ${arg} ${why}`;
}

/** An argument of the right type whose value no kernel caller could pass (out of range, in no bank). */
export class DmaSimRangeError extends RangeError implements DmaSimErrorFields {
  override name = 'DmaSimError';
  constructor(readonly fn: string, readonly arg: string, why: string) {
    super(message(fn, arg, why));
  }
}

/** An argument of the wrong type (a string for a size, a device of another machine). */
export class DmaSimTypeError extends TypeError implements DmaSimErrorFields {
  override name = 'DmaSimError';
  constructor(readonly fn: string, readonly arg: string, why: string) {
    super(message(fn, arg, why));
  }
}

/**
 * `err instanceof DmaSimError` is true for both flavours: API.md promises one name that is a
 * TypeError or RangeError subclass, and JavaScript classes have a single parent.
 */
export const DmaSimError: {
  readonly [Symbol.hasInstance]: (x: unknown) => x is DmaSimRangeError | DmaSimTypeError;
} = Object.freeze({
  [Symbol.hasInstance]: (x: unknown): x is DmaSimRangeError | DmaSimTypeError =>
    x instanceof DmaSimRangeError || x instanceof DmaSimTypeError,
});
export type DmaSimError = DmaSimRangeError | DmaSimTypeError;

/** A device access that reaches no RAM, or (with an IOMMU) an unmapped IOVA. Nothing was touched. */
export class DmaFaultError extends Error {
  override name = 'DmaFaultError';
  constructor(readonly device: string, readonly dmaAddr: number, readonly len: number, why: string) {
    // -1 stands for DMA_MAPPING_ERROR, ~(dma_addr_t)0.
    super(`${device}: DMA fault at 0x${dmaAddr === -1 ? 'ffffffffffffffff' : dmaAddr.toString(16)}+${len}: ${why}`);
  }
}

/** The kernel hit a BUG(): the line is in the log, and the call cannot continue. */
export class KernelBug extends Error {
  override name = 'KernelBug';
}

/** The WASM engine trapped: always a dmasim bug, never the caller's. */
export class DmaCoreFault extends Error {
  override name = 'DmaCoreFault';
  constructor(readonly op: string, readonly args: readonly number[], cause: unknown) {
    super(`engine trapped in ${op}(${args.join(', ')}): ${String(cause)}`, { cause });
  }
}
