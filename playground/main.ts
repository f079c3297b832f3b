// The playground page: a CodeMirror 6 editor with presets, Run (the program runs in a worker
// against dmasim and its .wasm; a program that runs past the time limit is stopped by
// terminating the worker), and views of each step: the cache lines of the buffers in use, the
// swiotlb slots, the IOMMU mappings, the data-check reports, the timeline and dmesg.

import { basicSetup, EditorView } from 'codemirror';
import { javascript } from '@codemirror/lang-javascript';
import { PRESETS } from './presets.js';
import type { RunResult, Snapshot } from './worker.js';

/** A run that has not answered after this long is stopped (an endless loop without API calls). */
const TIME_LIMIT_MS = 5000;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const editor = new EditorView({ doc: (PRESETS[0] as { code: string }).code, extensions: [basicSetup, javascript({ typescript: true })], parent: $('editor') });
const preset = $<HTMLSelectElement>('preset');
for (const [i, p] of PRESETS.entries()) preset.add(new Option(p.name, String(i)));
preset.onchange = () => editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: (PRESETS[Number(preset.value)] as { code: string }).code } });

let result: RunResult | null = null;
const slider = $<HTMLInputElement>('step');

function setStatus(text: string, kind: 'ok' | 'error' | ''): void {
  const s = $('status');
  s.textContent = text;
  s.className = kind;
}

function run(): void {
  setStatus('running...', '');
  $<HTMLButtonElement>('run').disabled = true;
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const timer = setTimeout(() => {
    worker.terminate();
    done(null, `stopped: no answer after ${TIME_LIMIT_MS / 1000} s (an endless loop?)`);
  }, TIME_LIMIT_MS);
  worker.onmessage = (e: MessageEvent<RunResult>) => {
    clearTimeout(timer);
    worker.terminate();
    done(e.data, e.data.error);
  };
  worker.onerror = (e) => {
    clearTimeout(timer);
    worker.terminate();
    done(null, e.message);
  };
  worker.postMessage({ code: editor.state.doc.toString() });
}

function done(r: RunResult | null, error: string | null): void {
  $<HTMLButtonElement>('run').disabled = false;
  if (r !== null) {
    result = r;
    slider.max = String(r.steps.length - 1);
    slider.value = slider.max;
    $('console').textContent = r.console.join('\n');
    const blob = new Blob([JSON.stringify(r.trace)], { type: 'application/json' });
    $<HTMLAnchorElement>('download').href = URL.createObjectURL(blob);
    drawTimeline(r.trace as { traceEvents: TraceEv[] } | null);
    show();
  }
  const reports = r?.steps.at(-1)?.reports.length ?? 0;
  if (error !== null) setStatus(error, 'error');
  else setStatus(`done: ${r?.steps.length ?? 0} steps, ${reports} data-check report${reports === 1 ? '' : 's'}`, reports > 0 ? 'error' : 'ok');
  document.body.dataset.state = error !== null ? 'error' : 'done';
}

function show(): void {
  const s = result?.steps[Number(slider.value)];
  if (s === undefined) return;
  $('call').textContent = `${slider.value}/${slider.max} ${s.call}`;
  drawBuffers(s);
  drawSwiotlb(s);
  $('iommu').textContent = s.iommu.length === 0 ? '(none)' : s.iommu.join('\n');
  $('reports').textContent = s.reports.length === 0 ? '(none)' : s.reports.map((r) => r.join('\n')).join('\n');
  $('dmesg').textContent = s.dmesg.join('\n');
}

function drawBuffers(s: Snapshot): void {
  const box = $('buffers');
  box.replaceChildren();
  if (s.buffers.length === 0) box.innerHTML = '<span class="empty">no buffer mapped</span>';
  for (const b of s.buffers) {
    const div = document.createElement('div');
    div.className = 'buf';
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = `${b.label} phys=0x${b.phys.toString(16)}`;
    const lines = document.createElement('div');
    lines.className = 'lines';
    for (const l of b.lines) {
      const i = document.createElement('i');
      i.className = `${l.state}${l.device ? ' device' : ''}`;
      i.title = `${l.state}${l.device ? ', owned by the device' : ''}`;
      lines.append(i);
    }
    div.append(label, lines);
    box.append(div);
  }
}

function drawSwiotlb(s: Snapshot): void {
  const box = $('swiotlb');
  box.replaceChildren();
  if (s.swiotlb === null) {
    box.innerHTML = '<span class="empty">no swiotlb pool on this machine</span>';
    return;
  }
  const used = new Set(s.swiotlb.used);
  const n = Math.min(512, s.swiotlb.nslabs);
  for (let i = 0; i < n; i++) {
    const el = document.createElement('i');
    if (used.has(i)) el.className = 'used';
    box.append(el);
  }
}

interface TraceEv { name: string; ph: string; pid: number; tid: number; ts?: number; dur?: number }

/** The timeline's slices and instants as an SVG: the CPU's row, then a row per device. */
function drawTimeline(trace: { traceEvents: TraceEv[] } | null): void {
  const box = $('timeline');
  const ev = (trace?.traceEvents ?? []).filter((e) => (e.ph === 'X' || e.ph === 'i') && e.ts !== undefined);
  if (ev.length === 0) {
    box.innerHTML = '<span class="empty">nothing recorded</span>';
    return;
  }
  const rows = [...new Set(ev.map((e) => `${e.pid}/${e.tid}`))];
  const names = new Map((trace?.traceEvents ?? []).filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, (e as unknown as { args: { name: string } }).args.name]));
  const t0 = Math.min(...ev.map((e) => e.ts as number));
  const t1 = Math.max(...ev.map((e) => (e.ts as number) + (e.dur ?? 0)));
  const W = 800, L = 110, H = 22;
  const x = (t: number): number => L + ((t - t0) / Math.max(t1 - t0, 1e-9)) * (W - L - 10);
  const parts = rows.map((r, i) => `<text x="4" y="${i * H + 15}" font-size="11">${names.get(r) ?? r}</text>`);
  for (const e of ev) {
    const y = rows.indexOf(`${e.pid}/${e.tid}`) * H + 3;
    const color = e.name.startsWith('data-check') || e.name === 'WARN' || e.name === 'dma-debug' ? '#e0563b' : e.pid === 2 ? '#9b59d0' : '#3b6fe0';
    if (e.ph === 'X') parts.push(`<rect x="${x(e.ts as number)}" y="${y}" width="${Math.max(2, x((e.ts as number) + (e.dur ?? 0)) - x(e.ts as number))}" height="16" fill="${color}"><title>${e.name}</title></rect>`);
    else parts.push(`<path d="M${x(e.ts as number)} ${y} l5 8 l-5 8 l-5 -8 z" fill="${color}"><title>${e.name}</title></path>`);
  }
  box.innerHTML = `<svg viewBox="0 0 ${W} ${rows.length * H + 4}" height="${rows.length * H + 4}">${parts.join('')}</svg>`;
}

$('run').onclick = run;
slider.oninput = show;
$('prev').onclick = () => { slider.value = String(Math.max(0, Number(slider.value) - 1)); show(); };
$('next').onclick = () => { slider.value = String(Math.min(Number(slider.max), Number(slider.value) + 1)); show(); };
document.body.dataset.state = 'ready';
