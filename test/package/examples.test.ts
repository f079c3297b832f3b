// examples/ runs as shipped: each program imports 'dmasim' by name (Node resolves a package's own
// name through its exports, so the built dist/ is what runs) and checks its own result. (The
// driver modules for `dmasim check`, whose default export is the driver, are run by
// test/checker/check-examples.test.ts.)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const dir = fileURLToPath(new URL('../../examples/', import.meta.url));
const isDriverModule = (f: string): boolean => /^export default /m.test(readFileSync(`${dir}${f}`, 'utf8'));
const examples = readdirSync(dir).filter((f) => /\.(mjs|cjs)$/.test(f) && !isDriverModule(f));

test('there are examples', () => {
  expect(examples.length).toBeGreaterThanOrEqual(4);
});

for (const file of examples) {
  test(`examples/${file} runs and its checks pass`, () => {
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).not.toBe('');
  });
}
