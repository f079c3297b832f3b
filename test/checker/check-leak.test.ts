// A run ends as the driver's module is unloaded: its devices are released from the driver
// (kernel/dma/debug.c dma_debug_device_change() on BUS_NOTIFY_UNBOUND_DRIVER), so a mapping it
// leaked is dma-debug's "pending DMA allocations" report: one finding over every configuration,
// though each has its own addresses.
import { expect, test } from 'vitest';
import { checkJson } from '../support/check-helpers.js';

test('a leaked mapping is one dma-debug finding on every configuration', { timeout: 120_000 }, () => {
  const { code, result } = checkJson('test/checker/fixtures/leaks-mapping.mjs', '--matrix', 'load=off', '--matrix', 'iommu=none,strict');
  expect(code).toBe(1);
  expect(result.table.every((t) => t.verdict === 'dma-debug error')).toBe(true);
  expect(result.findings).toHaveLength(1);
  expect(result.findings[0]?.line).toMatch(/^DMA-API: \w+ leak0: device driver has pending DMA allocations while released from device \[count=1\]$/);
  expect(result.findings[0]?.configurations).toHaveLength(18);
});
