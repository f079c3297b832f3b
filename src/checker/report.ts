// What `dmasim check` prints: one table (a row per configuration), then each distinct finding
// with the driver's line, the configurations it showed on, and the command that replays its
// simplest run alone.

import type { CheckFinding, CheckResult } from './index.js';

const LINE_WIDTH = 72;
const LIST_WIDTH = 100;

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 3)}...` : s;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
}

/** The result table: configuration, verdict, failing seeds, the first report line, the driver's line. */
export function formatTable(r: CheckResult): string[] {
  const head = ['configuration', 'verdict', 'seeds', 'first report line', 'driver line'];
  const rows = r.table.map((t) => [t.configuration, t.verdict, `${t.failingSeeds}/${t.seeds}`, clip(t.line, LINE_WIDTH), t.site]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  return [pad(head, widths), ...rows.map((row) => pad(row, widths))];
}

/** A list, comma-separated, in lines of at most LIST_WIDTH characters. */
function wrap(items: readonly string[], indent: string): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const item of items) {
    if (cur !== '' && indent.length + cur.length + item.length + 2 > LIST_WIDTH) {
      lines.push(`${indent}${cur},`);
      cur = '';
    }
    cur = cur === '' ? item : `${cur}, ${item}`;
  }
  if (cur !== '') lines.push(`${indent}${cur}`);
  return lines;
}

function findingLines(f: CheckFinding, i: number): string[] {
  const confs = f.configurations.length;
  return [
    `[${i + 1}] ${f.kind}${f.site === null ? '' : ` at ${f.siteLabel}`}`,
    ...(f.source === '' ? [] : [`      ${f.source}`]),
    `    ${f.line}`,
    `    on ${confs} configuration${confs === 1 ? '' : 's'} (${f.runs} run${f.runs === 1 ? '' : 's'}):`,
    ...wrap(f.configurations, '      '),
    `    smallest reproducer: ${f.reproducer.configuration}, seed ${f.reproducer.seed}`,
    ...(f.reproducer.command === null ? [] : [`      ${f.reproducer.command}`]),
  ];
}

/** The whole human-readable report. */
export function formatReport(r: CheckResult): string[] {
  const runs = r.runs.length;
  const bad = r.table.filter((t) => t.verdict !== 'clean').length;
  const out = [
    ...formatTable(r),
    '',
    `${r.configurations} configuration${r.configurations === 1 ? '' : 's'} x ${r.seeds.length} seed${r.seeds.length === 1 ? '' : 's'} = ${runs} run${runs === 1 ? '' : 's'}: ` +
      `${r.configurations - bad} clean, ${bad} with findings; ${r.findings.length} distinct finding${r.findings.length === 1 ? '' : 's'}`,
  ];
  r.findings.forEach((f, i) => out.push('', ...findingLines(f, i)));
  if (r.latent.length > 0) {
    out.push('', 'latent (a CPU access to a buffer a coherent device owns, mapped in place: harmless there, a bug where the device is not coherent or the buffer bounces):');
    for (const f of r.latent) out.push(`    ${f.line} at ${f.siteLabel} (${f.configurations.length} configurations)`);
  }
  for (const run of r.runs) {
    if (run.dmesg !== undefined) out.push('', `kernel log of ${run.configuration}, seed ${run.seed}:`, ...run.dmesg);
  }
  return out;
}
