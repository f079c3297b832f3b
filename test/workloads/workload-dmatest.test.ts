// Rule: `dmatest` runs drivers/dma/dmatest.c's memcpy test against the memcpy engine model and
// prints its lines: "Added/Started %u threads using %s", per failure "%s: result #%u: '%s' with
// src_off=0x%x dst_off=0x%x len=0x%x (%lu)", and "%s: summary %u tests, %u failures
// %llu.%02llu iops %llu KB/s (%d)" with dmatest_persec()'s 24.8 fixed point. A correct engine and
// driver pass every test, by interrupt or polled; bad parameters are refused by name.
import { expect, test } from 'vitest';
import { createMachine } from '../../src/index.js';
import { dmatest_persec, dmatestRates, runDmatest } from '../../src/workloads/dmatest.js';
import { expectDmaSimError } from '../support/helpers.js';

test('every copy verifies; the summary has the kernel format, in the log too', async () => {
  for (const polled of [false, true]) {
    const m = await createMachine({ seed: 4 });
    const r = runDmatest(m, { iterations: 20, polled });
    expect(r).toMatchObject({ tests: 20, failures: 0 });
    expect(r.lines.slice(0, 2)).toEqual(['dmatest: Added 1 threads using dma0chan0', 'dmatest: Started 1 threads using dma0chan0']);
    const { iops, kbs } = dmatestRates(r.runtimeUs, 20, r.totalLen);
    expect(r.lines.at(-1)).toBe(`dmatest: dma0chan0-copy0: summary 20 tests, 0 failures ${iops} iops ${kbs} KB/s (0)`);
    expect(r.lines.at(-1)).toMatch(/^dmatest: dma0chan0-copy0: summary 20 tests, 0 failures \d+\.\d\d iops \d+ KB\/s \(0\)$/);
    expect(m.dmesg()).toContain(r.lines.at(-1));
  }
});

test('dmatest_persec: 24.8 fixed point, precision dropped until the runtime fits in 32 bits', () => {
  expect(dmatest_persec(1_000_000n, 3n)).toBe(3n << 8n); // 3 per second
  expect(dmatest_persec(0n, 3n)).toBe(0n);
  expect(dmatestRates(2_000_000, 3, 0).iops).toBe('1.50');
});

test('the same seed gives the same lines; bad parameters are refused', async () => {
  const a = runDmatest(await createMachine({ seed: 9 }), { iterations: 5 });
  const b = runDmatest(await createMachine({ seed: 9 }), { iterations: 5 });
  expect(b.lines).toEqual(a.lines);
  const m = await createMachine({ seed: 1 });
  expectDmaSimError('runDmatest', () => runDmatest(m, { iterations: 0 }));
  expectDmaSimError('runDmatest', () => runDmatest(m, { test_buf_size: -1 }));
  expectDmaSimError('runDmatest', () => runDmatest(m, { alignment: 13 }));
});
