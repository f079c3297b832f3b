// A checker for the Trace Event Format (the Chrome/Perfetto JSON format, "Trace Event Format"
// document by Google, and what Perfetto's json importer accepts): the JSON Object Format with a
// traceEvents array; every event has a name, a phase from the format's list and integer pid/tid;
// timed phases have a finite, non-negative ts in microseconds; "X" has a non-negative dur;
// "C" carries numeric args; "i" has a scope of g, p or t; "M" names a process or thread with
// args.name; flow events ("s", "t", "f") carry a cat and an id, and every "f" has an "s" with the
// same cat and id that starts no later than it.

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'b', 'n', 'e', 's', 't', 'f', 'P', 'N', 'O', 'D', 'M', 'V', 'v', 'R', 'c']);
const METADATA = new Set(['process_name', 'process_labels', 'process_sort_index', 'thread_name', 'thread_sort_index']);

export function traceEventFormatErrors(json: unknown): string[] {
  const errors: string[] = [];
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { traceEvents?: unknown }).traceEvents)) {
    return ['not a JSON Object Format trace: no traceEvents array'];
  }
  const { traceEvents, displayTimeUnit } = json as { traceEvents: unknown[]; displayTimeUnit?: unknown };
  if (displayTimeUnit !== undefined && displayTimeUnit !== 'ms' && displayTimeUnit !== 'ns') errors.push(`displayTimeUnit ${String(displayTimeUnit)}`);
  const flowStarts = new Map<string, number>();
  const flowEnds: { key: string; ts: number; i: number }[] = [];
  traceEvents.forEach((raw, i) => {
    const e = raw as Record<string, unknown>;
    const bad = (why: string): void => void errors.push(`event ${i} (${String(e.name)}, ${String(e.ph)}): ${why}`);
    if (typeof e.name !== 'string') bad('name is not a string');
    if (typeof e.ph !== 'string' || !PHASES.has(e.ph)) { bad('unknown phase'); return; }
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) bad('pid/tid are not integers');
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null)) bad('args is not an object');
    if (e.ph === 'M') {
      if (!METADATA.has(e.name as string)) bad('unknown metadata name');
      if (typeof (e.args as { name?: unknown } | undefined)?.name !== 'string' && (e.name as string).endsWith('_name')) bad('metadata without args.name');
      return;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) bad('ts is not a finite non-negative number');
    if (e.ph === 'X' && (typeof e.dur !== 'number' || !Number.isFinite(e.dur) || e.dur < 0)) bad('X without a non-negative dur');
    if (e.ph === 'C' && !Object.values((e.args ?? {}) as object).every((v) => typeof v === 'number' && Number.isFinite(v))) bad('counter with a non-numeric value');
    if ((e.ph === 'i' || e.ph === 'I') && e.s !== undefined && !['g', 'p', 't'].includes(e.s as string)) bad('instant scope');
    if (e.ph === 's' || e.ph === 't' || e.ph === 'f') {
      if (typeof e.cat !== 'string' || (typeof e.id !== 'number' && typeof e.id !== 'string')) { bad('flow event without cat and id'); return; }
      const key = `${e.cat}/${String(e.id)}`;
      if (e.ph === 's') flowStarts.set(key, e.ts as number);
      if (e.ph === 'f') flowEnds.push({ key, ts: e.ts as number, i });
    }
  });
  for (const f of flowEnds) {
    const start = flowStarts.get(f.key);
    if (start === undefined) errors.push(`event ${f.i}: flow end ${f.key} without a start`);
    else if (start > f.ts) errors.push(`event ${f.i}: flow ${f.key} ends before it starts`);
  }
  return errors;
}
