// Running `dmasim check` as a user does (dist/cli.js, built by npm test's pretest), and what the
// kernel does to a buffer on each configuration of the checker's matrix.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseConfiguration } from '../../src/checker/matrix.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CheckRun {
  code: number;
  out: string;
  err: string;
}

/** `dmasim check ...` from the repository root (module paths are relative to it). */
export function dmasimCheck(...args: string[]): CheckRun {
  const r = spawnSync(process.execPath, [CLI, 'check', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

export interface JsonResult {
  table: { configuration: string; verdict: string; failingSeeds: number; seeds: number; line: string; site: string }[];
  findings: { kind: string; line: string; siteLabel: string; configurations: string[]; runs: number; reproducer: { configuration: string; seed: number; command: string } }[];
  latent: { kind: string; configurations: string[] }[];
  runs: { configuration: string; seed: number; verdict: string; stats: Record<string, number> | null; options: { machine: object; device: object } }[];
  exitCode: number;
}

/** `dmasim check <module> --json ...`, parsed. */
export function checkJson(module: string, ...args: string[]): { code: number; result: JsonResult } {
  const r = dmasimCheck(module, '--json', ...args);
  if (r.code === 2) throw new Error(`dmasim check ${module} refused: ${r.err}`);
  return { code: r.code, result: JSON.parse(r.out) as JsonResult };
}

/** The configurations whose verdict is not clean. */
export function failing(r: JsonResult): string[] {
  return r.table.filter((t) => t.verdict !== 'clean').map((t) => t.configuration).sort();
}

/**
 * Whether a streaming mapping of a kmalloc'd buffer above 4 GiB bounces through swiotlb on this
 * configuration. kernel/dma/direct.h dma_direct_map_phys(): with swiotlb=force
 * (is_swiotlb_force_bounce()) always, else when !dma_capable() (the 32-bit bus_dma_limit of
 * 'bounce'); drivers/iommu/dma-iommu.c iommu_dma_map_phys(): only an untrusted device's buffer
 * that does not fill whole granules (dev_use_swiotlb()), since the IOVA space is below any limit
 * and dma-iommu ignores swiotlb=force. A passthrough (identity) domain uses dma-direct.
 */
export function bounces(configuration: string, granuleAligned = false): boolean {
  const c = parseConfiguration(configuration);
  if (c.iommu === 'untrusted') return !granuleAligned;
  if (c.iommu === 'strict' || c.iommu === 'lazy') return false;
  return c.dma !== 'direct';
}

/** A device that does not snoop the CPU cache (arch/arm64: no `dma-coherent`). */
export function nonCoherent(configuration: string): boolean {
  return parseConfiguration(configuration).platform === 'arm64';
}
