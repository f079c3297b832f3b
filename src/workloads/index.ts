// dmasim/workloads: the jobs the CLI runs, importable by other Node tools to drive on their own
// machine objects.

export { runNic, Nic, NIC_DEFAULTS } from './nic.js';
export type { NicOptions, NicReport, NicBug, NicApi } from './nic.js';
export { runBarrierSweep, formatBarrierTable, BARRIER_SWEEP_DEFAULTS } from './barriers.js';
export { barrierChartSvg } from './chart.js';
export type { BarrierSweepOptions, BarrierSweepResult, BarrierRow, BarrierModeResult, BarrierOp } from './barriers.js';
export {
  runMapBenchmark, checkMapBenchmarkOptions, mapBenchmarkDevice, MAP_BENCHMARK_DEFAULTS, MAP_BENCHMARK_PAGE_BUDGET,
  defaultMaxLoops, to100ns, int_sqrt64, latencyStats, DMA_MAP_MAX_THREADS, DMA_MAP_MAX_SECONDS, DMA_MAP_MAX_TRANS_DELAY,
  DMA_MAP_BIDIRECTIONAL, DMA_MAP_TO_DEVICE, DMA_MAP_FROM_DEVICE, DMA_MAP_BENCH_SINGLE_MODE, DMA_MAP_BENCH_SG_MODE,
} from './map-benchmark.js';
export type { MapBenchmarkOptions, MapBenchmarkControl, MapBenchmarkResult } from './map-benchmark.js';
export { runDmapoolTest, nr_blocks, DMAPOOL_TEST_PARMS, DMAPOOL_TEST_ITERATIONS, DmaPoolPairs } from './dmapool-test.js';
export type { DmapoolParms, DmapoolTestOptions, DmapoolTestSetResult, DmapoolTestResult } from './dmapool-test.js';
export { runDemo } from './demo.js';
export type { DemoOptions } from './demo.js';
export { checkNicOptions, checkDmapoolTestOptions, checkDemoOptions, checkBarrierSweepOptions, checkMachine, NIC_LIMITS, DMAPOOL_TEST_MAX_ITERATIONS } from './options.js';
export { runDmatest, checkDmatestOptions, dmatest_persec, dmatestRates, DMATEST_DEFAULTS } from './dmatest.js';
export type { DmatestOptions, DmatestResult } from './dmatest.js';
export { DmasimNic, NIC_MMIO_BASE, NAPI_POLL_WEIGHT } from './nic-driver.js';
