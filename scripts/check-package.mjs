// The package as npm would publish it: publint and attw clean, no runtime dependency but the
// worker pool of dmasim/check (tinypool, which the library's core entries never import:
// test/package/dist.test.ts), and within the size budget (issue 17): tarball <= 600 KB,
// installed <= 2 MiB. Prints the figures. Run by CI.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = { tarball: 600_000, installed: 2 * 1024 * 1024 };
const ALLOWED_DEPENDENCIES = ['tinypool'];
const bin = (name) => join(root, 'node_modules/.bin', name);
const failures = [];

const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
const deps = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies ?? {});
console.log(`tarball ${pack.size} B (budget ${BUDGET.tarball}), installed ${pack.unpackedSize} B (budget ${BUDGET.installed}), ${pack.entryCount} files, ${deps.length} runtime dependencies`);
if (pack.size > BUDGET.tarball) failures.push(`the tarball is ${pack.size} B, over ${BUDGET.tarball}`);
if (pack.unpackedSize > BUDGET.installed) failures.push(`the installed package is ${pack.unpackedSize} B, over ${BUDGET.installed}`);
const extra = deps.filter((d) => !ALLOWED_DEPENDENCIES.includes(d));
if (extra.length > 0) failures.push(`runtime dependencies beyond ${ALLOWED_DEPENDENCIES.join(', ')}: ${extra.join(', ')}`);

for (const [tool, args] of [['publint', ['--strict']], ['attw', ['--pack', '.']]]) {
  try {
    execFileSync(bin(tool), args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    console.log(`${tool}: clean`);
  } catch (e) {
    failures.push(`${tool}:\n${e.stdout}${e.stderr}`);
  }
}
for (const f of failures) console.error(`check-package: ${f}`);
process.exit(failures.length > 0 ? 1 : 0);
