// The scatterlist helpers refuse what no kernel could pass, naming themselves (issue 13, items 10
// and 12): sg_set_page with no page, sg_phys of no entry, sg_set_buf of memory with no struct
// page (it used to name virt_to_phys), sg_alloc_table of no entries (it used to name sg_init_table).
import { describe, test } from 'vitest';
import { createMachine, DmaSimRangeError, DmaSimTypeError, sg_alloc_table, sg_init_table, sg_phys, sg_set_buf, sg_set_page } from '../../src/index.js';
import { refused } from '../support/refused.js';

describe('scatterlist helpers with arguments that are none', () => {
  test('sg_set_page, sg_phys, sg_set_buf, sg_alloc_table', async () => {
    const m = await createMachine();
    const sg = sg_init_table(1);
    const vbuf = m.vmalloc(4096);
    refused(m, () => sg_set_page(sg[0]!, 'x' as never, 64, 0), 'sg_set_page', 'page', DmaSimTypeError);
    refused(m, () => sg_phys(null as never), 'sg_phys', 'sg', DmaSimTypeError);
    refused(m, () => sg_phys({} as never), 'sg_phys', 'sg', DmaSimTypeError);
    refused(m, () => sg_set_buf(sg[0]!, 12345, 64), 'sg_set_buf', 'buf', DmaSimRangeError);
    refused(m, () => sg_set_buf(sg[0]!, vbuf, 64), 'sg_set_buf', 'buf', DmaSimRangeError);
    refused(m, () => sg_set_buf(sg[0]!, 'x' as never, 64), 'sg_set_buf', 'buf', DmaSimTypeError);
    refused(m, () => sg_alloc_table(-1), 'sg_alloc_table', 'nents', DmaSimRangeError);
  });
});
