// The `dmasim barriers` chart: a vega-lite spec compiled to vega and rendered to SVG without a
// browser or canvas (vega's 'none' renderer still serialises the scenegraph to SVG).

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import {
  BARRIER_OP_CALL, BATCHED_SYNC_SERIES, formatChange, formatSize, KERNEL_CONFIG, kernelConfigRow, kernelReduction, type BarrierSweepResult,
} from './barriers.js';

/** vega-lite's types for a panel of the concatenation and a layer of a panel, as the helpers build them. */
type Panel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];
type Layer = Extract<Panel, { layer: unknown }>['layer'][number];
type Encoding = NonNullable<Extract<Layer, { mark: unknown }>['encoding']>;

/** The chart's title: the kernel series the sweep reproduces, then what was timed. */
export function barrierChartTitle(r: BarrierSweepResult): string {
  return `${BATCHED_SYNC_SERIES.name}: ${BARRIER_OP_CALL[r.op]}(${r.dirName}), per-buffer vs batched DSBs`;
}

/** nents on a log axis ticked at the sweep's own list lengths: the interesting range spans 1 to thousands. */
function xEncoding(r: BarrierSweepResult): NonNullable<Encoding['x']> {
  const entries = [...new Set(r.rows.map((row) => row.entries))].sort((a, b) => a - b);
  return {
    field: 'entries',
    type: 'quantitative',
    scale: { type: 'log', domain: [entries[0] ?? 1, entries[entries.length - 1] ?? 1], nice: false },
    axis: { values: entries, grid: false, format: 'd', labelFlush: false },
    title: 'sg entries (nents)',
  };
}

/** Entry sizes in ascending order, so legend and colours follow the numbers rather than the labels. */
function sizeColor(r: BarrierSweepResult): NonNullable<Encoding['color']> {
  const domain = [...new Set(r.rows.map((row) => row.entrySize))].sort((a, b) => a - b).map(formatSize);
  return { field: 'size', type: 'nominal', scale: { domain }, title: 'entry size' };
}

/** The kernel's one measured configuration, as a point beside the model's line when the sweep ran it. */
function kernelLayer(r: BarrierSweepResult): Layer[] {
  const k = kernelReduction(r.op);
  if (k === undefined || kernelConfigRow(r) === undefined) return [];
  const label = `kernel, ${KERNEL_CONFIG}: ${formatChange(k)}`;
  return [{
    data: { values: [{ entries: BATCHED_SYNC_SERIES.entries, reduction: k * 100, label }] },
    layer: [
      { mark: { type: 'point', shape: 'diamond', size: 90, filled: true, color: 'black' } },
      { mark: { type: 'text', align: 'right', dx: -8, dy: 14 }, encoding: { text: { field: 'label' } } },
    ],
    encoding: { x: xEncoding(r), y: { field: 'reduction', type: 'quantitative' } },
  }];
}

function reductionPanel(r: BarrierSweepResult): Panel {
  const values = r.rows.filter((row) => Number.isFinite(row.modelReduction))
    .map((row) => ({ entries: row.entries, size: formatSize(row.entrySize), reduction: row.modelReduction * 100 }));
  return {
    title: 'batched vs per-buffer: reduction',
    width: 400,
    height: 260,
    layer: [
      {
        name: 'reduction',
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: xEncoding(r),
          // An axis title longer than the plot is tall would push the panel title up.
          y: { field: 'reduction', type: 'quantitative', title: 'model-time reduction (%)', scale: { domain: [0, 100] } },
          color: sizeColor(r),
        },
      },
      ...kernelLayer(r),
    ],
  };
}

function timePanel(r: BarrierSweepResult): Panel {
  const values = r.rows.flatMap((row) => [
    { entries: row.entries, size: formatSize(row.entrySize), mode: 'per-buffer', us: row.perBuffer.modelNs / 1e3 },
    { entries: row.entries, size: formatSize(row.entrySize), mode: 'batched', us: row.batched.modelNs / 1e3 },
  ]).filter((v) => v.us > 0);
  return {
    name: 'model_time',
    title: 'model time per call',
    width: 400,
    height: 260,
    data: { values },
    mark: 'line',
    encoding: {
      x: xEncoding(r),
      y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'model time (µs)' },
      color: sizeColor(r),
      strokeDash: { field: 'mode', type: 'nominal', scale: { domain: ['per-buffer', 'batched'] }, title: 'barriers' },
    },
  };
}

/** The vega-lite spec: reduction (%) and per-buffer/batched model time (µs) against nents. */
export function barrierChartSpec(r: BarrierSweepResult): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: barrierChartTitle(r),
      subtitle: [
        `${r.arch}, simulated time (the cost model of src/cost.ts), ${r.rows.length} configurations, seed ${r.seed}`,
        `the series measured ${formatChange(BATCHED_SYNC_SERIES.map)} (dma_map_sg) and ${formatChange(BATCHED_SYNC_SERIES.unmap)} (dma_unmap_sg) at ${KERNEL_CONFIG}`,
      ],
      anchor: 'start',
    },
    background: 'white',
    padding: 12,
    hconcat: [reductionPanel(r), timePanel(r)],
    resolve: { scale: { color: 'shared' } },
  };
}

export async function renderBarrierChart(r: BarrierSweepResult): Promise<string> {
  const view = new vega.View(vega.parse(compile(barrierChartSpec(r)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
