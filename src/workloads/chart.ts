// The `dmasim barriers` chart, drawn as plain SVG text: two panels against nents on a log axis,
// the model-time change of batched against per-buffer DSBs (signed as the table and the kernel
// series print it: less time is negative) and the model time per call of both modes. A hundred
// lines of string building replace a chart library (and its 40 MiB of dependencies) for one chart.

import {
  BARRIER_OP_CALL, BATCHED_SYNC_SERIES, formatChange, formatSize, KERNEL_CONFIG, kernelConfigRow, kernelReduction,
  type BarrierSweepResult,
} from './barriers.js';

/** The chart's title: the kernel series the sweep reproduces, then what was timed. */
export function barrierChartTitle(r: BarrierSweepResult): string {
  return `${BATCHED_SYNC_SERIES.name}: ${BARRIER_OP_CALL[r.op]}(${r.dirName}), per-buffer vs batched DSBs`;
}

/** Tableau 10's first colours, one per entry size. */
const COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6'];
const PANEL = { width: 400, height: 260 } as const;
const MARGIN = { left: 70, top: 96, gap: 120 } as const;

interface Point {
  readonly x: number;
  readonly y: number;
  readonly title: string;
}

/** A linear or log scale from a data domain onto a pixel range. */
function scale(lo: number, hi: number, from: number, to: number, log: boolean): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const [a, b] = [f(lo), f(hi)];
  return (v) => (b === a ? (from + to) / 2 : from + ((f(v) - a) / (b - a)) * (to - from));
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => String(Math.round(v * 10) / 10);

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? ` ${attrs}` : ''}>${esc(s)}</text>`;
}

function polyline(points: readonly Point[], color: string, dash: boolean): string {
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(p.x)},${num(p.y)}`).join('');
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="6,4"' : ''}/>`;
}

function dots(points: readonly Point[], color: string): string {
  return points.map((p) => `<circle cx="${num(p.x)}" cy="${num(p.y)}" r="3" fill="${color}"><title>${esc(p.title)}</title></circle>`).join('');
}

/** Round figures spanning [lo, hi] on a log axis: the powers of ten, or the ends if none fall inside. */
function logTicks(lo: number, hi: number): number[] {
  const ticks = [];
  for (let t = 10 ** Math.floor(Math.log10(lo)); t <= hi; t *= 10) if (t >= lo) ticks.push(t);
  return ticks.length > 0 ? ticks : [lo, hi];
}

interface Frame {
  readonly x0: number;
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
}

/** A panel's box, title, x axis (ticked at the sweep's own list lengths) and y axis. */
function axes(f: Frame, title: string, yTitle: string, entries: readonly number[], yTicks: readonly number[], yLabel: (v: number) => string): string {
  const { x0 } = f;
  const top = MARGIN.top;
  const bottom = top + PANEL.height;
  const parts = [
    `<rect x="${x0}" y="${top}" width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#ddd"/>`,
    text(x0, top - 10, title, 'font-weight="bold"'),
    ...entries.map((e) => `<line x1="${num(f.x(e))}" x2="${num(f.x(e))}" y1="${bottom}" y2="${bottom + 5}" stroke="#888"/>${text(f.x(e), bottom + 18, String(e), 'text-anchor="middle"')}`),
    text(x0 + PANEL.width / 2, bottom + 38, 'sg entries (nents)', 'text-anchor="middle"'),
    ...yTicks.map((t) => `<line class="grid" data-value="${t}" x1="${x0}" x2="${x0 + PANEL.width}" y1="${num(f.y(t))}" y2="${num(f.y(t))}" stroke="${t === 0 ? '#333' : '#eee'}"/>${text(x0 - 6, f.y(t) + 4, yLabel(t), 'text-anchor="end"')}`),
    text(x0 - 52, top + PANEL.height / 2, yTitle, `text-anchor="middle" transform="rotate(-90 ${x0 - 52} ${top + PANEL.height / 2})"`),
  ];
  return parts.join('');
}

/** Model-time change in %: negative where batched DSBs save time, with the kernel's figure beside it. */
function changePanel(r: BarrierSweepResult, x0: number, entries: readonly number[], sizes: readonly number[]): string {
  const rows = r.rows.filter((row) => Number.isFinite(row.modelReduction));
  const changes = rows.map((row) => -row.modelReduction * 100);
  const k = kernelReduction(r.op);
  if (k !== undefined) changes.push(-k * 100);
  const lo = Math.min(-100, Math.floor(Math.min(...changes) / 25) * 25);
  const hi = Math.max(0, Math.ceil(Math.max(...changes) / 25) * 25);
  const f: Frame = {
    x0,
    x: scale(entries[0] ?? 1, entries[entries.length - 1] ?? 1, x0 + 10, x0 + PANEL.width - 10, true),
    y: scale(lo, hi, MARGIN.top + PANEL.height, MARGIN.top, false),
  };
  const ticks = Array.from({ length: (hi - lo) / 25 + 1 }, (_, i) => lo + i * 25);
  const series = sizes.map((size, i) => {
    const pts = rows.filter((row) => row.entrySize === size).map((row) => ({
      x: f.x(row.entries), y: f.y(-row.modelReduction * 100), title: `${row.entries} x ${formatSize(size)}: ${formatChange(row.modelReduction)}`,
    }));
    const color = COLORS[i % COLORS.length] as string;
    return `<g class="change" data-size="${esc(formatSize(size))}">${polyline(pts, color, false)}${dots(pts, color)}</g>`;
  });
  let kernel = '';
  if (k !== undefined && kernelConfigRow(r) !== undefined) {
    const [x, y] = [f.x(BATCHED_SYNC_SERIES.entries), f.y(-k * 100)];
    const label = `kernel, ${KERNEL_CONFIG}: ${formatChange(k)}`;
    kernel = `<g class="kernel"><path d="M${num(x)},${num(y - 6)}L${num(x + 6)},${num(y)}L${num(x)},${num(y + 6)}L${num(x - 6)},${num(y)}Z" fill="black"><title>${esc(label)}</title></path>${text(x - 8, y + 18, label, 'text-anchor="end"')}</g>`;
  }
  return axes(f, 'batched vs per-buffer: model-time change', 'model-time change (%)', entries, ticks, (t) => `${t} %`) + series.join('') + kernel;
}

/** Model time per call, per-buffer solid and batched dashed, on a log axis. */
function timePanel(r: BarrierSweepResult, x0: number, entries: readonly number[], sizes: readonly number[]): string {
  const us = r.rows.flatMap((row) => [row.perBuffer.modelNs / 1e3, row.batched.modelNs / 1e3]).filter((v) => v > 0);
  const [lo, hi] = us.length > 0 ? [Math.min(...us), Math.max(...us)] : [1, 10];
  const f: Frame = {
    x0,
    x: scale(entries[0] ?? 1, entries[entries.length - 1] ?? 1, x0 + 10, x0 + PANEL.width - 10, true),
    y: scale(lo, hi, MARGIN.top + PANEL.height - 10, MARGIN.top + 10, true),
  };
  const series = sizes.flatMap((size, i) => (['perBuffer', 'batched'] as const).map((mode) => {
    const pts = r.rows.filter((row) => row.entrySize === size && row[mode].modelNs > 0).map((row) => ({
      x: f.x(row.entries), y: f.y(row[mode].modelNs / 1e3), title: `${row.entries} x ${formatSize(size)}, ${mode === 'batched' ? 'batched' : 'per-buffer'}: ${(row[mode].modelNs / 1e3).toFixed(1)} µs`,
    }));
    const color = COLORS[i % COLORS.length] as string;
    return `<g class="time" data-size="${esc(formatSize(size))}" data-mode="${mode === 'batched' ? 'batched' : 'per-buffer'}">${polyline(pts, color, mode === 'batched')}${dots(pts, color)}</g>`;
  }));
  return axes(f, 'model time per call', 'model time (µs)', entries, logTicks(lo, hi), (t) => String(t)) + series.join('');
}

/** Entry sizes by colour, and the two barrier modes by dash. */
function legend(x: number, sizes: readonly number[]): string {
  const items = sizes.map((size, i) => `<g class="legend">${`<line x1="${x}" x2="${x + 20}" y1="${MARGIN.top + 20 + i * 18}" y2="${MARGIN.top + 20 + i * 18}" stroke="${COLORS[i % COLORS.length]}" stroke-width="3"/>`}${text(x + 26, MARGIN.top + 24 + i * 18, `entry size: ${formatSize(size)}`)}</g>`);
  const y = MARGIN.top + 40 + sizes.length * 18;
  const modes = [['per-buffer', false], ['batched', true]] as const;
  const dashes = modes.map(([name, dash], i) => `<g class="legend"><line x1="${x}" x2="${x + 20}" y1="${y + i * 18}" y2="${y + i * 18}" stroke="#333" stroke-width="2"${dash ? ' stroke-dasharray="6,4"' : ''}/>${text(x + 26, y + 4 + i * 18, `barriers: ${name}`)}</g>`);
  return text(x, MARGIN.top + 4, 'legend', 'font-weight="bold"') + items.join('') + dashes.join('');
}

/** The chart as a standalone SVG document (a Promise, as it was when a chart library drew it). */
export async function barrierChartSvg(r: BarrierSweepResult): Promise<string> {
  const entries = [...new Set(r.rows.map((row) => row.entries))].sort((a, b) => a - b);
  const sizes = [...new Set(r.rows.map((row) => row.entrySize))].sort((a, b) => a - b);
  const x1 = MARGIN.left;
  const x2 = x1 + PANEL.width + MARGIN.gap;
  const width = x2 + PANEL.width + 190;
  const height = MARGIN.top + PANEL.height + 60;
  const subtitle = [
    `${r.arch}, simulated time (the per-arch cost model), ${r.rows.length} configurations, seed ${r.seed}`,
    `the series measured ${formatChange(BATCHED_SYNC_SERIES.map)} (dma_map_sg) and ${formatChange(BATCHED_SYNC_SERIES.unmap)} (dma_unmap_sg) at ${KERNEL_CONFIG}`,
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(12, 24, barrierChartTitle(r), 'font-size="14" font-weight="bold"'),
    ...subtitle.map((s, i) => text(12, 42 + i * 15, s, 'fill="#555"')),
    changePanel(r, x1, entries, sizes),
    timePanel(r, x2, entries, sizes),
    legend(x2 + PANEL.width + 20, sizes),
    '</svg>',
    '',
  ].join('\n');
}
