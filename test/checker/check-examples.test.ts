// The examples of examples/ through `dmasim check` over the default matrix: the correct driver is
// clean everywhere, and each classic bug is found exactly on the configurations where it changes
// what the driver sees, and nowhere else.
import { describe, expect, it } from 'vitest';
import { configurationName, configurations, defaultMatrix, parseConfiguration } from '../../src/checker/matrix.js';
import { bounces, checkJson, failing, nonCoherent } from '../support/check-helpers.js';

const ALL = configurations(defaultMatrix()).map(configurationName).sort();

// Each test runs 72 or more machines in worker threads: seconds alone, longer on a busy machine.
describe('dmasim check on the examples', { timeout: 180_000 }, () => {
  it('finds the correct driver clean on all 72 configurations', () => {
    const { code, result } = checkJson('examples/rx-tx.mjs', '--seeds', '2');
    expect(code).toBe(0);
    expect(result.table).toHaveLength(72);
    expect(failing(result)).toEqual([]);
    expect(result.findings).toEqual([]);
    expect(result.runs).toHaveLength(144);
  });

  it('finds a missing sync for the CPU on non-coherent arm64 and wherever the buffer bounces, not on a coherent device mapped in place', () => {
    // arch/arm64/mm/dma-mapping.c arch_sync_dma_for_cpu() is what invalidates the stale lines, and
    // kernel/dma/swiotlb.c swiotlb_sync_single_for_cpu() what copies the bounce slot back.
    const { code, result } = checkJson('examples/missing-sync-for-cpu.mjs');
    expect(code).toBe(1);
    expect(failing(result)).toEqual(ALL.filter((c) => nonCoherent(c) || bounces(c)));
    expect(result.table.find((t) => t.configuration === 'arm64/direct/iommu-none/load-off')).toMatchObject({
      verdict: 'data corrupted', line: 'BUG: DMA-API stale read: CPU read of a cacheline the device wrote, not invalidated since', site: 'examples/missing-sync-for-cpu.mjs:23',
    });
    const x86 = result.table.find((t) => t.configuration === 'x86_64/direct/iommu-none/load-off');
    expect(x86?.verdict).toBe('clean');
    expect(result.latent.flatMap((f) => f.configurations)).toContain('x86_64/direct/iommu-none/load-off');
  });

  it('finds a buffer sharing a cache line with a CPU-written field only on non-coherent arm64 where it is mapped in place', () => {
    // arch/arm64/mm/cache.S dcache_inval_poc cleans and invalidates a partial edge line, writing the
    // CPU's dirty copy back over the device's bytes; a bounced buffer is copied by bytes instead.
    const { code, result } = checkJson('examples/shared-cacheline.mjs');
    expect(code).toBe(1);
    expect(failing(result)).toEqual(ALL.filter((c) => nonCoherent(c) && !bounces(c)));
    const lost = result.findings.find((f) => f.kind === 'data corrupted');
    expect(lost?.line).toBe('BUG: DMA-API lost DMA data: dirty cacheline written back over data the device wrote');
    expect(lost?.reproducer.configuration).toBe('arm64/direct/iommu-none/load-off');
  });

  it('finds a missing dma_mapping_error() everywhere: a DMA fault where the mapping fails, a dma-debug error elsewhere', () => {
    // kernel/dma/debug.c check_unmap(): "device driver failed to check map error"; a 512 KiB buffer
    // is more than one swiotlb mapping can bounce (kernel/dma/swiotlb.c swiotlb_max_mapping_size()).
    const { code, result } = checkJson('examples/missing-mapping-error-check.mjs');
    expect(code).toBe(1);
    expect(failing(result)).toEqual(ALL);
    for (const t of result.table) expect(t.verdict, t.configuration).toBe(bounces(t.configuration, true) ? 'DMA fault' : 'dma-debug error');
    expect(result.findings.map((f) => f.kind).sort()).toEqual(['DMA fault', 'dma-debug error']);
    const debug = result.findings.find((f) => f.kind === 'dma-debug error');
    expect(debug?.line).toMatch(/^DMA-API: maperr 0000:01:00\.0: device driver failed to check map error\[device address=0x[0-9a-f]{16}\] \[size=524288 bytes\]/);
    expect(debug?.siteLabel).toBe('examples/missing-mapping-error-check.mjs:20');
  });

  it('finds the correct NIC ring driver (the NIC model, MMIO, coherent rings) clean on all 72 configurations', () => {
    const { code, result } = checkJson('examples/nic-ring.mjs', '--seeds', '2');
    expect(code).toBe(0);
    expect(failing(result)).toEqual([]);
    expect(result.runs).toHaveLength(144);
  });

  it('finds a missing dma_rmb() on arm64 under load, coherent or not, and never on x86_64', () => {
    // arm64 may perform a load before an earlier one: dma_rmb() is DMB OSHLD
    // (arch/arm64/include/asm/barrier.h); x86_64 does not reorder loads with loads, and its
    // dma_rmb() is barrier() (arch/x86/include/asm/barrier.h).
    const { code, result } = checkJson('examples/nic-missing-dma-rmb.mjs');
    expect(code).toBe(1);
    expect(failing(result)).toEqual(ALL.filter((c) => parseConfiguration(c).platform !== 'x86_64' && parseConfiguration(c).load === 'on'));
    expect(result.findings.map((f) => f.line)).toEqual(['Error: RX packet 0: length 2048, the NIC received 1000']);
  });

  it('finds a TX doorbell rung with writel_relaxed() where the descriptor store can still be buffered: non-coherent arm64 under load', () => {
    // arch/arm64/include/asm/io.h: writel() is __iowmb() (a dma_wmb()) then writel_relaxed(); a
    // non-coherent device's coherent ring is mapped uncached, so its stores wait in the store buffer.
    const { code, result } = checkJson('examples/nic-writel-relaxed.mjs');
    expect(code).toBe(1);
    expect(failing(result)).toEqual(ALL.filter((c) => nonCoherent(c) && parseConfiguration(c).load === 'on'));
    expect(result.findings[0]?.line).toBe('Error: TX packet 0: nothing after 10 ms');
  });
});
