// The machines a driver can meet, as a matrix of dimensions, and what each configuration means
// for createMachine() and for the devices the driver creates.
//
// A configuration is the platform a driver is probed on, not a choice the driver makes: on real
// hardware firmware says whether a device is DMA-coherent (the DT `dma-coherent` property, ACPI
// _CCA), whether it sits behind an IOMMU and whether it is external-facing (untrusted), and how
// far its interconnect reaches (bus_dma_limit). So those device properties come from the
// configuration, over whatever the driver passed to createDevice().

import { DMA_BIT_MASK } from '../include/dma-mapping.js';
import type { DeviceOptions, LoadOptions, MachineOptions } from '../index.js';

/** The dimensions, each with its values in the default matrix first and then the extra ones. */
export const DIMENSIONS = {
  /** arm64 with non-coherent devices (the kernel's norm there), arm64 with `dma-coherent` devices, x86_64 (always coherent). */
  platform: { values: ['arm64', 'arm64-coherent', 'x86_64'], extra: [] },
  /** dma-direct in place, a 32-bit interconnect that makes high buffers bounce, or swiotlb=force. */
  dma: { values: ['direct', 'bounce', 'swiotlb-force'], extra: [] },
  /** no IOMMU, a DMA domain with strict or lazy (flush queue) IOTLB invalidation, an untrusted device; passthrough on request. */
  iommu: { values: ['none', 'strict', 'lazy', 'untrusted'], extra: ['passthrough'] },
  /** an idle machine, or one under load (evictions, speculative fills, store and load reordering). */
  load: { values: ['off', 'on'], extra: [] },
  /** arm64's batched DSBs (ARCH_HAS_BATCHED_DMA_SYNC), or one DSB per cache operation on request. */
  sync: { values: ['batched'], extra: ['per-buffer'] },
} as const;

export type Dimension = keyof typeof DIMENSIONS;
type ValueOf<D extends Dimension> = (typeof DIMENSIONS)[D]['values'][number] | (typeof DIMENSIONS)[D]['extra'][number];

/** One point of the matrix. */
export interface Configuration {
  readonly platform: ValueOf<'platform'>;
  readonly dma: ValueOf<'dma'>;
  readonly iommu: ValueOf<'iommu'>;
  readonly load: ValueOf<'load'>;
  readonly sync: ValueOf<'sync'>;
}

/** The values chosen for each dimension. */
export type Matrix = { readonly [D in Dimension]: readonly ValueOf<D>[] };

export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as Dimension[];

/** Why a matrix, a configuration name or a check option was refused: a usage error (exit 2). */
export class CheckUsageError extends Error {
  override name = 'CheckUsageError';
}

/**
 * "Under load": every knob the machine has, strong enough that a load-dependent bug shows every
 * time. x86_64 keeps the cache knobs only: it does not reorder loads with loads nor stores with
 * stores (which is why its dma_rmb() and dma_wmb() are compiler barriers, arch/x86/include/asm/barrier.h).
 */
const LOAD_ON_X86 = { evictionPressure: 0.2, speculation: 0.2 } as const satisfies LoadOptions;
export const LOAD_ON: LoadOptions = { ...LOAD_ON_X86, storeReordering: 0.5, loadReordering: 0.5 };

export function defaultMatrix(): Matrix {
  const m: Record<string, readonly string[]> = {};
  for (const d of DIMENSION_NAMES) m[d] = [...DIMENSIONS[d].values];
  return m as unknown as Matrix;
}

function allValues(d: Dimension): readonly string[] {
  return [...DIMENSIONS[d].values, ...DIMENSIONS[d].extra];
}

/**
 * Applies `dim=v1,v2` settings to a matrix: each names the values of one dimension (narrowing it,
 * or widening it with extra values); `dim=all` takes every value the dimension has.
 */
export function narrowMatrix(base: Matrix, settings: readonly string[]): Matrix {
  const m: Record<string, readonly string[]> = { ...base };
  for (const s of settings) {
    const eq = s.indexOf('=');
    const dim = s.slice(0, eq).trim() as Dimension;
    if (eq < 0 || !(dim in DIMENSIONS)) throw new CheckUsageError(`--matrix ${s}: expected <dimension>=<values> with a dimension among ${DIMENSION_NAMES.join(', ')}`);
    const known = allValues(dim);
    const values = s.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
    if (values.length === 0) throw new CheckUsageError(`--matrix ${s}: names no ${dim} value (known: ${known.join(', ')}, all)`);
    const chosen = values.includes('all') ? known : values;
    for (const v of chosen) if (!known.includes(v)) throw new CheckUsageError(`--matrix ${s}: ${v} is not a ${dim} value (known: ${known.join(', ')}, all)`);
    m[dim] = [...new Set(chosen)];
  }
  return m as unknown as Matrix;
}

/** Every configuration of a matrix, in dimension order. */
export function configurations(m: Matrix): Configuration[] {
  let out: Record<string, string>[] = [{}];
  for (const d of DIMENSION_NAMES) out = out.flatMap((c) => m[d].map((v) => ({ ...c, [d]: v })));
  return out as unknown as Configuration[];
}

/**
 * A configuration's name, e.g. `arm64/bounce/iommu-strict/load-on`: platform, dma path, IOMMU,
 * load, and the DSB mode only when it is not the default. parseConfiguration() reads it back.
 */
export function configurationName(c: Configuration): string {
  const parts = [c.platform, c.dma, `iommu-${c.iommu}`, `load-${c.load}`];
  if (c.sync !== DIMENSIONS.sync.values[0]) parts.push(`sync-${c.sync}`);
  return parts.join('/');
}

/** The configuration a name stands for (missing dimensions take their first default value). */
export function parseConfiguration(name: string): Configuration {
  const c: Record<string, string> = {};
  for (const part of name.split('/')) {
    const dim = DIMENSION_NAMES.find((d) => allValues(d).some((v) => part === v || part === `${d}-${v}`));
    if (dim === undefined || c[dim] !== undefined) throw new CheckUsageError(`--only ${name}: ${part} is not a configuration part (e.g. arm64/direct/iommu-none/load-off)`);
    c[dim] = part.startsWith(`${dim}-`) && !allValues(dim).includes(part) ? part.slice(dim.length + 1) : part;
  }
  for (const d of DIMENSION_NAMES) c[d] ??= DIMENSIONS[d].values[0];
  return c as unknown as Configuration;
}

/** The boot of a configuration: dma-debug and the data-aware checker always on. */
export function machineOptions(c: Configuration, seed: number): MachineOptions {
  const arch = c.platform === 'x86_64' ? 'x86_64' : 'arm64';
  const cmdline = [
    c.dma === 'swiotlb-force' ? 'swiotlb=force' : '',
    c.iommu === 'strict' ? 'iommu.strict=1' : c.iommu === 'lazy' ? 'iommu.strict=0' : c.iommu === 'passthrough' ? 'iommu.passthrough=1' : '',
  ].filter((p) => p !== '').join(' ');
  return {
    arch,
    seed,
    cmdline,
    config: { DMA_API_DEBUG: true, ARCH_HAS_BATCHED_DMA_SYNC: arch === 'arm64' && c.sync === 'batched' },
    dataCheck: true,
    load: c.load !== 'on' ? {} : arch === 'x86_64' ? LOAD_ON_X86 : LOAD_ON,
  };
}

/** What firmware says about every device on this platform (see the file comment). */
export function devicePlatform(c: Configuration): Pick<DeviceOptions, 'coherent' | 'iommu' | 'busDmaLimit'> {
  const iommu = c.iommu === 'none' ? undefined : c.iommu === 'untrusted' ? { pci: true, untrusted: true } : { pci: true };
  return {
    coherent: c.platform !== 'arm64',
    ...(iommu === undefined ? {} : { iommu }),
    ...(c.dma === 'bounce' ? { busDmaLimit: DMA_BIT_MASK(32) } : {}),
  };
}

/** A driver's device options with the platform's over them; a device with legacy dma_map_ops keeps them (no IOMMU). */
export function onPlatform(opts: DeviceOptions, c: Configuration): DeviceOptions {
  if (typeof opts !== 'object' || opts === null) return opts;
  const { iommu, ...rest } = devicePlatform(c);
  const { iommu: _driverIommu, ...own } = opts;
  return { ...own, ...rest, ...(iommu === undefined || opts.ops !== undefined ? {} : { iommu }) };
}
