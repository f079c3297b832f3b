// The checker's matrix: the default is {3 platforms} x {3 DMA paths} x {4 IOMMU modes} x
// {load off, on}; --matrix narrows or widens a dimension; every configuration's name reads back
// to it; and each configuration boots the machine and sets the devices as its platform says.
import { describe, expect, it } from 'vitest';
import {
  CheckUsageError, configurationName, configurations, defaultMatrix, devicePlatform, machineOptions, narrowMatrix, onPlatform, parseConfiguration,
} from '../../src/checker/matrix.js';
import { DMA_BIT_MASK } from '../../src/index.js';

describe('the matrix', () => {
  it('has 72 configurations by default, every name distinct and read back to its configuration', () => {
    const all = configurations(defaultMatrix());
    expect(all).toHaveLength(3 * 3 * 4 * 2);
    const names = all.map(configurationName);
    expect(new Set(names).size).toBe(names.length);
    for (const c of all) expect(parseConfiguration(configurationName(c))).toEqual(c);
    expect(names[0]).toBe('arm64/direct/iommu-none/load-off');
  });

  it('narrows and widens one dimension at a time', () => {
    const m = narrowMatrix(defaultMatrix(), ['platform=x86_64', 'iommu=none,passthrough', 'sync=all']);
    const names = configurations(m).map(configurationName);
    expect(names).toHaveLength(1 * 3 * 2 * 2 * 2);
    expect(names).toContain('x86_64/bounce/iommu-passthrough/load-on/sync-per-buffer');
    expect(names.every((n) => n.startsWith('x86_64/'))).toBe(true);
  });

  it('refuses an unknown dimension or value, naming it', () => {
    expect(() => narrowMatrix(defaultMatrix(), ['cpu=riscv'])).toThrow(CheckUsageError);
    expect(() => narrowMatrix(defaultMatrix(), ['iommu=sometimes'])).toThrow(/sometimes is not a iommu value/);
    expect(() => narrowMatrix(defaultMatrix(), ['load='])).toThrow(/names no load value/);
    expect(() => parseConfiguration('arm64/nowhere')).toThrow(/nowhere is not a configuration part/);
  });
});

describe('a configuration', () => {
  it('boots with dma-debug and the data-aware checker, its command line and its load', () => {
    const o = machineOptions(parseConfiguration('arm64/swiotlb-force/iommu-lazy/load-on'), 7);
    expect(o).toMatchObject({ arch: 'arm64', seed: 7, cmdline: 'swiotlb=force iommu.strict=0', dataCheck: true, config: { DMA_API_DEBUG: true, ARCH_HAS_BATCHED_DMA_SYNC: true } });
    expect(o.load?.evictionPressure).toBeGreaterThan(0);
    expect(machineOptions(parseConfiguration('x86_64/direct/iommu-none/load-off'), 1)).toMatchObject({ arch: 'x86_64', cmdline: '', load: {} });
    // x86_64 reorders neither loads with loads nor stores with stores (arch/x86/include/asm/barrier.h).
    expect(machineOptions(parseConfiguration('x86_64/direct/iommu-none/load-on'), 1).load).toEqual({ evictionPressure: 0.2, speculation: 0.2 });
    expect(machineOptions(parseConfiguration('arm64-coherent/direct/iommu-none/load-on'), 1).load).toMatchObject({ storeReordering: 0.5, loadReordering: 0.5 });
  });

  it('sets coherence, the IOMMU and the bus limit over what the driver passed, and keeps the rest', () => {
    const c = parseConfiguration('arm64-coherent/bounce/iommu-untrusted/load-off');
    expect(devicePlatform(c)).toEqual({ coherent: true, iommu: { pci: true, untrusted: true }, busDmaLimit: DMA_BIT_MASK(32) });
    const opts = onPlatform({ name: 'nic0', driver: 'mynic', coherent: false, iommu: { group: 'g' }, maxSegmentSize: 4096 }, c);
    expect(opts).toEqual({ name: 'nic0', driver: 'mynic', coherent: true, iommu: { pci: true, untrusted: true }, busDmaLimit: DMA_BIT_MASK(32), maxSegmentSize: 4096 });
    expect(onPlatform({ name: 'nic0', iommu: true }, parseConfiguration('arm64/direct/iommu-none/load-off'))).toEqual({ name: 'nic0', coherent: false });
  });
});
