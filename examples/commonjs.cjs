// CommonJS: require('dmasim') is the ES module itself (Node >= 20.19 loads it through require),
// so a machine made with import() works with functions obtained through require().
const assert = require('node:assert/strict');
const { dma_map_single, dma_mapping_error, DMA_TO_DEVICE, GFP_KERNEL, Machine } = require('dmasim');
const { runNic } = require('dmasim/workloads');

(async () => {
  const esm = await import('dmasim');
  assert.equal(esm.Machine, Machine);
  const m = await esm.createMachine({ seed: 2 });
  assert.ok(m instanceof Machine);
  const dev = m.createDevice({ name: 'cjs' });
  const buf = m.kmalloc(256, GFP_KERNEL);
  const h = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);
  assert.equal(dma_mapping_error(dev, h), 0);
  const r = runNic(m, { packets: 100 });
  console.log(`mapped at 0x${h.toString(16)}; ${r.verified} packets verified`);
  assert.equal(r.verified, 200);
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
