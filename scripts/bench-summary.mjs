// Turns the rows every bench suite wrote (bench/results.jsonl) into one table of figures and
// same-run ratios, and bench/results.json for tools.
import { readFileSync, writeFileSync } from 'node:fs';

const rows = readFileSync(new URL('../bench/results.jsonl', import.meta.url), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const w = Math.max(...rows.map((r) => r.name.length));
console.log(`\n${'suite'.padEnd(9)}${'figure'.padEnd(w + 2)}${'value'.padStart(10)} ${'unit'.padEnd(9)}ratio to the same-run baseline`);
for (const r of rows) {
  const ratio = r.ratio === undefined ? '' : `${fmt(r.ratio)}x ${r.baseline ?? ''}`;
  const goal = r.goal ? `  (goal ${r.goal})` : '';
  console.log(`${r.suite.padEnd(9)}${r.name.padEnd(w + 2)}${fmt(r.value).padStart(10)} ${r.unit.padEnd(9)}${ratio}${goal}`);
}
writeFileSync(new URL('../bench/results.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
console.log('\nwritten: bench/results.json');
