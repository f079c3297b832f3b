import { defineConfig } from 'vitest/config';
import { wasmBytes } from './test/support/wasm-bytes.js';

export default defineConfig({
  plugins: [wasmBytes()],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
    testTimeout: 30_000,
  },
});
