// Rule: `dmasim barriers` (issue 7, item 5) reproduces the arm64 batched cache sync series
// (KERNEL.md §7.4): at 2,560 × 4 KiB, dma_map_sg() took 64.61 % and dma_unmap_sg() 66.60 % less
// time with one DSB per list (arch_sync_dma_flush() after the loop of dma_direct_map_sg /
// unmap_sg, kernel/dma/direct.c) than with one per entry. The sweep's model time must show a
// reduction of that size (55 % .. 75 %); batching changes how many DSBs there are, never how
// many DC operations. Its table and its SVG chart are checked for shape and sign, not for pixels.
import { beforeAll, describe, expect, test } from 'vitest';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../src/index.js';
import {
  BARRIER_SWEEP_DEFAULTS, BARRIER_TABLE_COLUMNS, BATCHED_SYNC_SERIES, formatBarrierTable, kernelConfigRow,
  runBarrierSweep, type BarrierRow, type BarrierSweepOptions, type BarrierSweepResult,
} from '../../src/workloads/barriers.js';
import { barrierChartSvg, barrierChartTitle } from '../../src/workloads/chart.js';

function kernelRow(r: BarrierSweepResult): BarrierRow {
  const row = kernelConfigRow(r);
  if (row === undefined) throw new Error('no 2,560 x 4 KiB row');
  return row;
}

/** Per-buffer: one DSB per entry; batched: one per list; the same DC operations either way. */
function expectBarrierCounts(row: BarrierRow): void {
  expect(row.perBuffer.barriers).toBe(row.entries);
  expect(row.batched.barriers).toBe(1);
  expect(row.batched.dcOps).toBe(row.perBuffer.dcOps);
  expect(row.perBuffer.dcOps).toBe(row.entries * Math.ceil(row.entrySize / 64));
}

describe('default sweep: dma_map_sg(DMA_TO_DEVICE)', () => {
  let r: BarrierSweepResult;
  const progress: number[] = [];

  // The whole default sweep: seconds alone, longer when the machine is shared.
  beforeAll(async () => {
    r = await runBarrierSweep({ onProgress: (f) => progress.push(f) });
  }, 120_000);

  test('covers every (entries, size) of the defaults, 2,560 x 4 KiB among them', () => {
    expect(r.op).toBe('map');
    expect(r.dir).toBe(DMA_TO_DEVICE);
    expect(r.rows).toHaveLength(BARRIER_SWEEP_DEFAULTS.entries.length * BARRIER_SWEEP_DEFAULTS.entrySizes.length);
    expect(BARRIER_SWEEP_DEFAULTS.entries).toContain(2560);
    expect(BARRIER_SWEEP_DEFAULTS.entrySizes).toContain(4096);
    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  test('2,560 x 4 KiB: model time 55..75 % lower batched (kernel: -64.61 %)', () => {
    const row = kernelRow(r);
    expect(row.modelReduction).toBeGreaterThanOrEqual(0.55);
    expect(row.modelReduction).toBeLessThanOrEqual(0.75);
    expect(row.modelReduction).toBeCloseTo(1 - row.batched.modelNs / row.perBuffer.modelNs, 12);
  });

  test('every row: DSBs per entry vs one per list, equal DC operations, wall time measured', () => {
    for (const row of r.rows) {
      expectBarrierCounts(row);
      expect(row.perBuffer.wallNs).toBeGreaterThan(0);
      expect(row.batched.wallNs).toBeGreaterThan(0);
      expect(Number.isFinite(row.wallReduction)).toBe(true);
    }
  });

  test('the result survives JSON', () => {
    const back = JSON.parse(JSON.stringify(r)) as BarrierSweepResult;
    expect(back.rows).toHaveLength(r.rows.length);
    expect(kernelRow(back).perBuffer).toEqual(kernelRow(r).perBuffer);
  });

  test('table: caption, column headers, one line per configuration, the kernel figure', () => {
    const lines = formatBarrierTable(r);
    expect(lines[0]).toMatch(/^dma_map_sg\(DMA_TO_DEVICE\) on arm64/);
    for (const g of ['DC ops', 'DSBs', 'model time (us)', 'wall time (us)']) expect(lines[1]).toContain(g);
    expect(lines[2]!.trim().split(/\s+/)).toEqual(BARRIER_TABLE_COLUMNS.map((c) => c.name));
    expect(lines[3]).toMatch(/^-+$/);
    const body = lines.slice(4, 4 + r.rows.length);
    const width = lines[2]!.length;
    for (const l of body) expect(l.length).toBe(width);
    const k = body.find((l) => /^\s*2560\s+4 KiB\s/.test(l));
    expect(k?.trim().split(/\s+/).slice(0, 9)).toEqual(['2560', '4', 'KiB', '163840', '163840', '2560', '1', '885.8', '310.0']);
    expect(lines.at(-1)).toMatch(/^2560 x 4 KiB: model -6\d\.\d\d %, kernel -64\.61 %/);
  });

  test('chart: an SVG with the title, one change line per entry size, and both modes per size', async () => {
    const svg = await barrierChartSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain(barrierChartTitle(r));
    expect(svg).toContain(BATCHED_SYNC_SERIES.name);
    expect(svg.match(/<g class="change" /g)).toHaveLength(BARRIER_SWEEP_DEFAULTS.entrySizes.length);
    expect(svg.match(/<g class="time" /g)).toHaveLength(2 * BARRIER_SWEEP_DEFAULTS.entrySizes.length);
    for (const label of ['512 B', '4 KiB', '16 KiB']) expect(svg).toContain(`entry size: ${label}`);
    expect(svg).toContain('model-time change (%)');
    expect(svg).toContain('model time (µs)');
    expect((svg.match(/<g[ >]/g) ?? []).length).toBe((svg.match(/<\/g>/g) ?? []).length);
  });

  test('chart: a reduction is drawn below the 0 % line, where the table prints it negative', async () => {
    const svg = await barrierChartSvg(r);
    const zero = /<line class="grid" data-value="0" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)"/.exec(svg);
    const row = kernelRow(r);
    const point = new RegExp(`<g class="change" data-size="4 KiB">.*?<circle cx="[\\d.]+" cy="([\\d.]+)" r="3" fill="[^"]+"><title>2560 x 4 KiB: (-[\\d.]+) %</title>`).exec(svg);
    expect(zero).not.toBeNull();
    expect(point).not.toBeNull();
    expect(Number(point![2])).toBeCloseTo(-row.modelReduction * 100, 2);
    expect(Number(point![1])).toBeGreaterThan(Number(zero![1]));
    const kernel = /<g class="kernel"><path d="M[\d.]+,([\d.]+)L/.exec(svg);
    expect(Number(kernel![1])).toBeGreaterThan(Number(zero![1]));
    expect(svg).toContain('kernel, 2560 x 4 KiB: -64.61 %');
  });
});

test('dma_unmap_sg(DMA_FROM_DEVICE) at 2,560 x 4 KiB: 55..75 % lower (kernel: -66.60 %)', async () => {
  const r = await runBarrierSweep({ op: 'unmap', dir: DMA_FROM_DEVICE, entries: [2560], entrySizes: [4096], repetitions: 3 });
  const row = kernelRow(r);
  expectBarrierCounts(row);
  expect(row.modelReduction).toBeGreaterThanOrEqual(0.55);
  expect(row.modelReduction).toBeLessThanOrEqual(0.75);
  expect(formatBarrierTable(r).at(-1)).toContain('kernel -66.60 %');
});

test('the same seed gives the same counters and model times', async () => {
  const o = { entries: [64], entrySizes: [4096], op: 'sync_for_device', repetitions: 1 } as const;
  const strip = (r: BarrierSweepResult) => r.rows.map(({ perBuffer, batched }) => [perBuffer, batched].map(({ wallNs: _w, ...c }) => c));
  expect(strip(await runBarrierSweep(o))).toEqual(strip(await runBarrierSweep(o)));
});

test('a sync with nothing to maintain: no reduction to report, the batched DSB is still there', async () => {
  // dma_direct_sync_sg_for_cpu flushes after the loop even when no entry needed maintenance.
  const r = await runBarrierSweep({ op: 'sync_for_cpu', dir: DMA_TO_DEVICE, entries: [16], entrySizes: [512], repetitions: 1 });
  const row = r.rows[0]!;
  expect([row.perBuffer.dcOps, row.perBuffer.barriers, row.batched.dcOps, row.batched.barriers]).toEqual([0, 0, 0, 1]);
  expect(row.modelReduction).toBeNaN();
  expect(formatBarrierTable(r)[4]).toContain('n/a');
  expect(await barrierChartSvg(r)).toContain('<svg');
});

test('bad options are RangeErrors naming the option', async () => {
  await expect(runBarrierSweep({ entries: [] })).rejects.toThrow(/entries/);
  await expect(runBarrierSweep({ entrySizes: [0] })).rejects.toThrow(/entrySizes/);
  await expect(runBarrierSweep({ op: 'remap' as never })).rejects.toThrow(RangeError);
  await expect(runBarrierSweep({ dir: 3 as never })).rejects.toThrow(/dir/);
  await expect(runBarrierSweep({ repetitions: 0 })).rejects.toThrow(/repetitions/);
});

test('an option passed as undefined keeps its default (an absent CLI flag)', async () => {
  const r = await runBarrierSweep({ entries: [1], entrySizes: [512], repetitions: 1, seed: undefined, op: undefined } as unknown as Partial<BarrierSweepOptions>);
  expect([r.seed, r.op, r.dir]).toEqual([BARRIER_SWEEP_DEFAULTS.seed, 'map', DMA_TO_DEVICE]);
});
