// Prints the closing line CI reads, "vitest: N passed, N failed, N skipped", after vitest's own summary.
import type { Reporter, TestModule } from 'vitest/node';

export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: 'passed' | 'interrupted' | 'failed',
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      const tests = [...m.children.allTests()];
      for (const t of tests) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped++;
      }
      // A file that crashed while importing has no tests but must still count as a failure.
      if (m.state() === 'failed' && tests.length === 0) failed++;
    }
    failed += unhandledErrors.length;
    // A run can fail outside every test (setup error, no files, interrupt): never report it green.
    if (reason !== 'passed' && failed === 0) failed = 1;
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
