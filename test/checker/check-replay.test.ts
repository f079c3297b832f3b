// A finding's reproducer replays alone: the command it prints runs one configuration and seed,
// finds the same thing, and prints the run's full kernel log.
import { expect, test } from 'vitest';
import { checkJson, dmasimCheck } from '../support/check-helpers.js';

test('the reproducer command replays the finding alone with its kernel log', { timeout: 120_000 }, () => {
  const { result } = checkJson('examples/shared-cacheline.mjs', '--matrix', 'platform=arm64', '--seeds', '2');
  const lost = result.findings.find((f) => f.kind === 'data corrupted');
  expect(lost?.reproducer).toMatchObject({ configuration: 'arm64/direct/iommu-none/load-off', seed: 1 });
  const args = (lost?.reproducer.command ?? '').split(' ');
  expect(args.slice(0, 2)).toEqual(['dmasim', 'check']);
  const replay = dmasimCheck(...args.slice(2));
  expect(replay.code).toBe(1);
  expect(replay.out).toMatch(/^arm64\/direct\/iommu-none\/load-off +data corrupted +1\/1 /m);
  expect(replay.out).toContain('1 configuration x 1 seed = 1 run');
  expect(replay.out).toContain('kernel log of arm64/direct/iommu-none/load-off, seed 1:');
  expect(replay.out).toContain('Linux version 7.1.0-dmasim');
  expect(replay.out).toContain('BUG: DMA-API lost DMA data: dirty cacheline written back over data the device wrote');
});
