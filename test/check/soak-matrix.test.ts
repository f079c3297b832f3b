// The soak (issue 13): a correct driver (test/support/soak-driver.ts) over the whole
// configuration matrix, {arm64 non-coherent, arm64 coherent device, x86_64} × {swiotlb off,
// swiotlb=force, 32-bit mask} × {no IOMMU, strict, lazy} × {batched DSBs on, off} × {load off,
// on}, plus storeReordering, with CONFIG_DMA_API_DEBUG and the data-aware checker on. It must
// lose no byte, get no report of any kind, and leave no swiotlb slot or dma-debug entry behind.
// In CI each configuration runs a few hundred steps; `npm run soak` (DMASIM_SOAK_MS per
// configuration) runs it for minutes.
import { afterAll, describe, expect, test } from 'vitest';
import { SoakDriver, soakMatrix, soakName } from '../support/soak-driver.js';

const budgetMs = Number(process.env.DMASIM_SOAK_MS ?? 0);
const STEPS = 300;
const total = { configs: 0, calls: 0, bytes: 0 };

describe('soak: a correct driver over the configuration matrix', () => {
  soakMatrix().forEach((cfg, i) => {
    test(soakName(cfg), async () => {
      let seed = 1000 + i;
      const end = performance.now() + budgetMs;
      do {
        const d = await SoakDriver.boot(cfg, seed++);
        d.run(STEPS);
        const r = d.finish();
        expect(r.problems).toEqual([]);
        expect(r.bytes).toBeGreaterThan(0);
        total.calls += r.calls;
        total.bytes += r.bytes;
      } while (performance.now() < end);
      total.configs++;
    }, 60_000 + budgetMs * 2);
  });

  afterAll(() => {
    console.log(`soak: ${total.configs} configurations, ${total.calls} DMA API calls, ${total.bytes} bytes verified`);
  });
});
