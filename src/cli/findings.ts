// What a command's machines found, and its --trace timeline. Every machine the CLI boots for a
// command is registered here; when the command's action is done, the timeline is written and,
// with --data-check, each data-check report is printed (the first 10, then a count). `dmasim
// report <command ...>` replays a command with the data checker on and prints what it found,
// by kind and by site.

import { writeFileSync } from 'node:fs';
import type { Machine } from '../index.js';

/** The flags of a run that this module acts on. */
export interface FindingFlags {
  trace?: string;
  dataCheck: boolean;
  json: boolean;
}

interface Run {
  readonly m: Machine;
  readonly f: FindingFlags;
}

const runs: Run[] = [];
/** Set while `dmasim report` replays a command: nothing is printed, everything is collected. */
let replaying = false;

/** Reports printed in full before the rest are only counted. */
const SHOWN_REPORTS = 10;

/** bootMachine() registers each machine; --trace starts its timeline before the workload runs. */
export function registerRun(m: Machine, f: FindingFlags): void {
  if (f.trace !== undefined && !replaying) m.trace.start();
  runs.push({ m, f });
}

/** After the command: write each timeline, print the data-check reports of a text-mode run. */
export function finishRuns(print: (lines: readonly string[]) => void): void {
  if (replaying) return;
  for (const { m, f } of runs.splice(0)) {
    if (f.trace !== undefined) writeFileSync(f.trace, `${JSON.stringify(m.trace.stop())}\n`);
    if (f.dataCheck && !f.json) print(dataCheckLines(m));
  }
}

/** The reports as printed: the first ten in full, then how many more there were. */
export function dataCheckLines(m: Machine): string[] {
  const reports = m.dataCheck?.reports ?? [];
  if (reports.length === 0) return ['', 'data-check: no reports'];
  const out = ['', `data-check: ${reports.length} report${reports.length === 1 ? '' : 's'}`];
  for (const r of reports.slice(0, SHOWN_REPORTS)) out.push(...r.lines);
  if (reports.length > SHOWN_REPORTS) out.push(`... and ${reports.length - SHOWN_REPORTS} more data-check reports`);
  return out;
}

/** What a --json result carries about the data checker: every report, as an object. */
export function dataCheckJson(m: Machine): { dataCheck?: { reports: unknown[] } } {
  const dc = m.dataCheck;
  if (dc === null) return {};
  return { dataCheck: { reports: dc.reports.map((r) => ({ kind: r.kind, title: r.title, access: r.access, mapping: r.mapping, missing: r.missing, bytes: r.bytes })) } };
}

/** Where a report happened: the call that made the mapping, and the access that went wrong. */
function siteOf(r: { mapping: { call: string } | null; access: { by: string; op: string } }): string {
  return `${r.mapping?.call ?? '(no mapping)'}: ${r.access.by} ${r.access.op}`;
}

export interface ReportSummary {
  command: string;
  reports: number;
  kinds: { kind: string; count: number; sites: { site: string; count: number }[] }[];
}

/**
 * `dmasim report <command ...>`: runs the command with --data-check, its own output silenced,
 * and summarises the reports of every machine it booted by kind and site.
 */
export async function replay(args: readonly string[], run: (argv: string[]) => Promise<number>): Promise<ReportSummary> {
  const write = process.stdout.write.bind(process.stdout);
  replaying = true;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await run([...args, '--data-check']);
  } finally {
    process.stdout.write = write;
    replaying = false;
  }
  const kinds = new Map<string, Map<string, number>>();
  let total = 0;
  for (const { m } of runs.splice(0)) {
    for (const r of m.dataCheck?.reports ?? []) {
      const sites = kinds.get(r.kind) ?? new Map<string, number>();
      kinds.set(r.kind, sites);
      const site = siteOf(r);
      sites.set(site, (sites.get(site) ?? 0) + 1);
      total++;
    }
  }
  const byCount = <T extends { count: number }>(a: T, b: T): number => b.count - a.count;
  return {
    command: args.join(' '),
    reports: total,
    kinds: [...kinds].map(([kind, sites]) => ({
      kind,
      count: [...sites.values()].reduce((a, b) => a + b, 0),
      sites: [...sites].map(([site, count]) => ({ site, count })).sort(byCount),
    })).sort(byCount),
  };
}

/** The summary as text. */
export function summaryLines(s: ReportSummary): string[] {
  const out = [`dmasim report: ${s.command}`, `data-check reports: ${s.reports}`];
  for (const k of s.kinds) {
    out.push(`  ${k.kind.padEnd(40)} ${String(k.count).padStart(7)}`);
    for (const site of k.sites) out.push(`    ${site.site.padEnd(38)} ${String(site.count).padStart(7)}`);
  }
  return out;
}
