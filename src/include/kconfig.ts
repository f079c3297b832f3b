// The build-time options dmasim models, by their Kconfig names (what include/generated/autoconf.h
// would define). Every layer that behaves differently under one of them reads it from here.

/** Build-time options, by their Kconfig names. */
export interface KernelConfig {
  DMA_API_DEBUG?: boolean;
  ARCH_HAS_BATCHED_DMA_SYNC?: boolean;
}

/** The options as a booted machine holds them: every one decided. */
export type Kconfig = Readonly<Required<KernelConfig>>;
