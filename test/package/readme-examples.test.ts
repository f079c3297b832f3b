// README's TypeScript examples run as written against the built package: documentation that
// cannot silently rot. Each ```ts block is rewritten to import from dist/ and executed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);

/** Points the package's specifiers at the built files and strips the type-only syntax. */
function runnable(code: string): string {
  const dist = new URL('dist/', root).href;
  return code
    .replace(/from 'dmasim\/workloads'/g, `from '${dist}workloads.js'`)
    .replace(/from 'dmasim\/devices'/g, `from '${dist}devices.js'`)
    .replace(/from 'dmasim'/g, `from '${dist}index.js'`);
}

test('README has TypeScript examples', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(2);
});

for (const [i, code] of blocks.entries()) {
  test(`README example ${i + 1} runs`, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dmasim-readme-')), `example${i}.mjs`);
    writeFileSync(file, runnable(code));
    const log = console.log;
    console.log = () => {};
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = log;
    }
  });
}
