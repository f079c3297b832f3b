// White-box barrel for tests only (never bundled, never published): the public surface plus the
// internals a test may check directly. Library code imports the module it needs, not this.

export * from './index.js';
export * from './include/dma-mapping.js';
export * from './options.js';
export * from './lib/vsprintf.js';
