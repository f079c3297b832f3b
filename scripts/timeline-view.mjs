// A stand-in for ui.perfetto.dev where it cannot be reached (this machine has no network): a
// static page that draws a Chrome trace-event JSON file the way Perfetto lays it out, one row per
// thread track (complete "X" events as slices, "i" events as instants, "s"/"f" flow arrows) and
// one per counter track ("C" events as a step line), under the process and thread names of the
// "M" metadata events. It reads only the trace-event format, so what it draws is what the file
// holds; Perfetto itself shows more (zoom, selection, SQL). test/trace/timeline-screenshot.test.ts
// renders a dmasim trace with it in headless Chromium and saves docs/timeline.png.
//
// timelineHtml(json) returns the page with the trace inline; open it in any browser.

/** The page for one trace (the JSON object m.trace.stop() returns). */
export function timelineHtml(trace) {
  const data = JSON.stringify(trace).replace(/</g, '\\u003c');
  return `<!doctype html><meta charset="utf-8"><title>dmasim timeline</title>
<style>body{margin:0;font:12px sans-serif;background:#fff}svg text{font:11px sans-serif}</style>
<svg id="tl" xmlns="http://www.w3.org/2000/svg"></svg>
<script>(${draw.toString()})(${data});</script>`;
}

/** Runs in the page: lays out the tracks and draws them into <svg id="tl">. */
function draw(trace) {
  const NS = 'http://www.w3.org/2000/svg';
  const LABEL = 220;
  const WIDTH = 1400;
  const ROW = 26;
  const CROW = 40;
  const svg = document.getElementById('tl');
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  const evs = trace.traceEvents;
  const procs = new Map();
  const threads = new Map();
  for (const e of evs) {
    if (e.ph !== 'M') continue;
    if (e.name === 'process_name') procs.set(e.pid, e.args.name);
    if (e.name === 'thread_name') threads.set(`${e.pid}/${e.tid}`, e.args.name);
  }
  const timed = evs.filter((e) => e.ph !== 'M' && typeof e.ts === 'number');
  const t0 = Math.min(...timed.map((e) => e.ts));
  const t1 = Math.max(...timed.map((e) => e.ts + (e.dur ?? 0)));
  const x = (ts) => LABEL + ((ts - t0) / Math.max(t1 - t0, 1e-9)) * (WIDTH - LABEL - 10);
  // Rows: thread tracks in (pid, tid) order, then counter tracks in order of first sample.
  const rows = [];
  const rowOf = new Map();
  const keyOf = (e) => (e.ph === 'C' ? `C/${e.pid}/${e.name}` : `${e.pid}/${e.tid}`);
  const keys = [...new Set(timed.filter((e) => e.ph !== 's' && e.ph !== 'f').map(keyOf))];
  keys.sort((a, b) => (a.startsWith('C/') ? 1 : 0) - (b.startsWith('C/') ? 1 : 0) || a.localeCompare(b, 'en', { numeric: true }));
  let y = 24;
  for (const k of keys) {
    const counter = k.startsWith('C/');
    const [pid, rest] = counter ? [k.split('/')[1], k.split('/').slice(2).join('/')] : k.split('/');
    const name = counter ? `${procs.get(Number(pid)) ?? pid}: ${rest}` : `${procs.get(Number(pid)) ?? pid} / ${threads.get(k) ?? rest}`;
    const r = { k, y, h: counter ? CROW : ROW, name, counter };
    rows.push(r);
    rowOf.set(k, r);
    y += r.h + 4;
  }
  svg.setAttribute('width', WIDTH);
  svg.setAttribute('height', y + 10);
  // Time axis in simulated microseconds.
  for (let i = 0; i <= 10; i++) {
    const ts = t0 + ((t1 - t0) * i) / 10;
    el('line', { x1: x(ts), x2: x(ts), y1: 14, y2: y, stroke: '#eee' });
    el('text', { x: x(ts) + 2, y: 11, fill: '#666' }, `${(ts - t0).toFixed(2)} us`);
  }
  const hue = (s) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
  for (const r of rows) {
    el('rect', { x: 0, y: r.y, width: WIDTH, height: r.h, fill: r.counter ? '#f6f8fc' : '#fafafa', class: 'track' });
    el('text', { x: 6, y: r.y + r.h / 2 + 4, fill: '#222' }, r.name);
  }
  for (const e of timed) {
    const r = rowOf.get(keyOf(e));
    if (r === undefined || r.counter) continue;
    if (e.ph === 'X') {
      const w = Math.max(1.5, x(e.ts + (e.dur ?? 0)) - x(e.ts));
      el('rect', { x: x(e.ts), y: r.y + 3, width: w, height: r.h - 6, fill: `hsl(${hue(e.name)},55%,62%)`, class: 'slice' }).appendChild(document.createElementNS(NS, 'title')).textContent = `${e.name} ${JSON.stringify(e.args ?? {})}`;
      // The name, cut to the slice's width (about 6 px a character), as Perfetto does.
      const fits = Math.floor((w - 6) / 6);
      if (fits >= 4) el('text', { x: x(e.ts) + 3, y: r.y + r.h / 2 + 4, fill: '#000' }, e.name.length <= fits ? e.name : `${e.name.slice(0, fits - 1)}…`);
    } else if (e.ph === 'i') {
      const cx = x(e.ts);
      el('path', { d: `M${cx} ${r.y + 2} l5 ${r.h / 2 - 2} l-5 ${r.h / 2 - 2} l-5 ${-(r.h / 2 - 2)} z`, fill: e.cat === 'data-check' || e.cat === 'warn' || e.cat === 'dma-debug' ? '#d33' : '#888', class: 'instant' });
    }
  }
  // Flow arrows: from the "s" event's track and time to the "f" event's.
  const starts = new Map(timed.filter((e) => e.ph === 's').map((e) => [e.id, e]));
  for (const f of timed.filter((e) => e.ph === 'f')) {
    const s = starts.get(f.id);
    const rs = s && rowOf.get(keyOf(s));
    const rf = rowOf.get(keyOf(f));
    if (!s || !rs || !rf) continue;
    el('path', { d: `M${x(s.ts)} ${rs.y + rs.h - 2} C${x(s.ts)} ${rs.y + rs.h + 14} ${x(f.ts)} ${rf.y + rf.h + 14} ${x(f.ts)} ${rf.y + rf.h - 2}`, stroke: '#d33', fill: 'none', 'stroke-width': 1.2, class: 'flow' });
  }
  // Counters: a step line scaled to the track's largest value, the value held until the next sample.
  for (const r of rows.filter((q) => q.counter)) {
    const samples = timed.filter((e) => e.ph === 'C' && keyOf(e) === r.k).map((e) => [e.ts, Number(Object.values(e.args)[0])]);
    const max = Math.max(1, ...samples.map(([, v]) => v));
    const yv = (v) => r.y + r.h - 3 - (v / max) * (r.h - 8);
    let d = '';
    samples.forEach(([ts, v], i) => { d += i === 0 ? `M${x(ts)} ${yv(v)}` : `H${x(ts)} V${yv(v)}`; });
    d += `H${x(t1)}`;
    el('path', { d, stroke: `hsl(${hue(r.k)},60%,40%)`, fill: 'none', 'stroke-width': 1.5, class: 'counter' });
    el('text', { x: WIDTH - 80, y: r.y + 12, fill: '#555' }, `max ${max}`);
  }
  document.body.dataset.state = 'drawn';
}
