// dmasim/workloads: the jobs the CLI runs, importable by other Node tools to drive on their own
// machine objects.

export { runNic, Nic, NIC_DEFAULTS } from './nic.js';
export type { NicOptions, NicReport, NicBug } from './nic.js';
