// dmasim/workloads: the jobs the CLI runs, importable by other Node tools to drive on their own
// machine objects.

export { runNic, Nic, NIC_DEFAULTS } from './nic.js';
export type { NicOptions, NicReport, NicBug } from './nic.js';
export { runBarrierSweep, formatBarrierTable, barrierChartSvg, BARRIER_SWEEP_DEFAULTS } from './barriers.js';
export type { BarrierSweepOptions, BarrierSweepResult, BarrierRow, BarrierModeResult, BarrierOp } from './barriers.js';
