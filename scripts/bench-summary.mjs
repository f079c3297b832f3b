// Turns the rows every bench suite wrote (bench/results.jsonl) into one table of figures and
// same-run ratios, and bench/results.json for tools.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const rows = readFileSync(new URL('../bench/results.jsonl', import.meta.url), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const w = Math.max(...rows.map((r) => r.name.length));
console.log(`\n${'suite'.padEnd(9)}${'figure'.padEnd(w + 2)}${'value'.padStart(10)} ${'unit'.padEnd(9)}ratio to the same-run baseline`);
for (const r of rows) {
  const ratio = r.ratio === undefined ? '' : `${fmt(r.ratio)}x ${r.baseline ?? ''}`;
  const goal = r.goal ? `  (goal ${r.goal})` : '';
  console.log(`${r.suite.padEnd(9)}${r.name.padEnd(w + 2)}${fmt(r.value).padStart(10)} ${r.unit.padEnd(9)}${ratio}${goal}`);
}
// What the figures were measured on: the same commit on another CPU or Node gives other figures.
const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
const cpu = cpus()[0]?.model ?? 'unknown';
const run = { date: new Date().toISOString(), commit: dirty ? `${commit}+changes` : commit, node: process.version, cpu, cores: cpus().length, load: loadavg()[0] };
writeFileSync(new URL('../bench/results.json', import.meta.url), `${JSON.stringify({ ...run, rows }, null, 2)}\n`);
console.log('\nwritten: bench/results.json');
