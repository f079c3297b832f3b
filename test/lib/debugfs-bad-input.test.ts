// m.debugfs.read/write/list take strings (issue 13, item 9): anything else is a DmaSimTypeError
// naming the method and the argument, and nothing changes (a null is not the file "null").
import { describe, test } from 'vitest';
import { createMachine, DmaSimTypeError } from '../../src/index.js';
import { refused } from '../support/refused.js';

const FILTER = '/sys/kernel/debug/dma-api/driver_filter';

describe('debugfs with arguments that are not strings', () => {
  test('read, write and list', async () => {
    const m = await createMachine({ config: { DMA_API_DEBUG: true } });
    refused(m, () => m.debugfs.read(null as never), 'debugfs.read', 'path', DmaSimTypeError);
    refused(m, () => m.debugfs.read(5 as never), 'debugfs.read', 'path', DmaSimTypeError);
    refused(m, () => m.debugfs.write(FILTER, 0 as never), 'debugfs.write', 'text', DmaSimTypeError);
    refused(m, () => m.debugfs.write(FILTER, null as never), 'debugfs.write', 'text', DmaSimTypeError);
    refused(m, () => m.debugfs.write({} as never, 'x'), 'debugfs.write', 'path', DmaSimTypeError);
    refused(m, () => m.debugfs.list(undefined as never), 'debugfs.list', 'dir', DmaSimTypeError);
  });
});
