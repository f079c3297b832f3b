// Every workload command takes --trace <file.json>: the run's timeline is written there as
// Chrome trace-event JSON that passes the format's rules, with a slice per DMA API call.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { traceEventFormatErrors } from '../support/trace-event-format.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

for (const args of [['nic', '--packets', '200'], ['dmapool-test', '--iterations', '1']]) {
  test(`${args[0]} --trace writes a valid timeline`, () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dmasim-trace-')), 'out.json');
    const r = spawnSync(process.execPath, [CLI, ...args, '--trace', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(traceEventFormatErrors(json)).toEqual([]);
    expect((json.traceEvents as { ph: string; cat?: string }[]).some((e) => e.ph === 'X' && e.cat === 'dma')).toBe(true);
  });
}
