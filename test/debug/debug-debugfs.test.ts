// /sys/kernel/debug/dma-api/ as dma_debug_fs_init() creates it: u32 files read as "%llu\n",
// `disabled` as "Y\n"/"N\n", writes parsed by kstrtoull() (anything else is -EINVAL and changes
// nothing), read-only files refuse writes, driver_filter keeps the first token of at most 63
// bytes, and dump prints one line per entry in hash-bucket order.
import { describe, expect, test } from 'vitest';
import {
  DebugfsError, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
  dma_alloc_coherent, dma_map_sg, dma_map_single, dma_mapping_error, sg_init_table, sg_set_buf,
} from '../../src/index.js';
import { DMA_API, rig } from '../support/debug-helpers.js';

function rejects(fn: () => void, code: string): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(DebugfsError);
  expect((err as DebugfsError).code).toBe(code);
}

describe('dma-api debugfs', () => {
  test('the files, and what they read at boot', async () => {
    const { m } = await rig();
    const r = (f: string): string => m.debugfs.read(`${DMA_API}/${f}`);
    expect(m.debugfs.list(DMA_API)).toEqual([
      'all_errors', 'disabled', 'driver_filter', 'dump', 'error_count', 'min_free_entries', 'nr_total_entries', 'num_errors', 'num_free_entries',
    ]);
    expect([r('disabled'), r('error_count'), r('all_errors'), r('num_errors')]).toEqual(['N\n', '0\n', '0\n', '1\n']);
    expect([r('num_free_entries'), r('min_free_entries'), r('nr_total_entries')]).toEqual(['65536\n', '65536\n', '65536\n']);
    expect([r('driver_filter'), r('dump')]).toEqual(['', '']);
  });

  test('free and minimum-free entries follow the mappings', async () => {
    const { m, dev } = await rig();
    const bufs = [0, 1, 2].map(() => m.kmalloc(64, GFP_KERNEL));
    for (const b of bufs) dma_map_single(dev, b, 64, DMA_TO_DEVICE);
    expect(m.debugfs.read(`${DMA_API}/num_free_entries`)).toBe('65533\n');
    expect(m.debugfs.read(`${DMA_API}/min_free_entries`)).toBe('65533\n');
  });

  test('u32 writes: kstrtoull() syntax (decimal, 0x, octal, a trailing newline), truncated to 32 bits', async () => {
    const { m } = await rig();
    const f = `${DMA_API}/num_errors`;
    for (const [w, r] of [['5\n', '5\n'], ['0x10', '16\n'], ['010', '8\n'], ['+7', '7\n'], ['4294967297', '1\n']] as const) {
      m.debugfs.write(f, w);
      expect(m.debugfs.read(f)).toBe(r);
    }
    m.debugfs.write(`${DMA_API}/all_errors`, '1');
    expect(m.debugfs.read(`${DMA_API}/all_errors`)).toBe('1\n');
  });

  test('rejected writes: non-numeric is EINVAL and changes nothing; read-only files are EACCES; no file is ENOENT', async () => {
    const { m } = await rig();
    m.debugfs.write(`${DMA_API}/num_errors`, '3');
    for (const w of ['abc', '', ' 4', '4 4', '-1', '12abc', '18446744073709551616']) rejects(() => m.debugfs.write(`${DMA_API}/num_errors`, w), 'EINVAL');
    rejects(() => m.debugfs.write(`${DMA_API}/all_errors`, 'yes'), 'EINVAL');
    expect(m.debugfs.read(`${DMA_API}/num_errors`)).toBe('3\n');
    expect(m.debugfs.read(`${DMA_API}/all_errors`)).toBe('0\n');
    for (const f of ['disabled', 'error_count', 'num_free_entries', 'min_free_entries', 'nr_total_entries', 'dump']) {
      rejects(() => m.debugfs.write(`${DMA_API}/${f}`, '0'), 'EACCES');
    }
    rejects(() => m.debugfs.read(`${DMA_API}/nope`), 'ENOENT');
    rejects(() => m.debugfs.write(`${DMA_API}/nope`, '1'), 'ENOENT');
    rejects(() => m.debugfs.read(DMA_API), 'EISDIR');
  });

  test('driver_filter: first token, at most NAME_MAX_LEN - 1 bytes of the write, switched off by a non-alphanumeric start', async () => {
    const { m, log } = await rig();
    const f = `${DMA_API}/driver_filter`;
    m.debugfs.write(f, 'e1000e extra words\n');
    expect(m.debugfs.read(f)).toBe('e1000e\n');
    m.debugfs.write(f, `${'a'.repeat(62)}bcdef`);
    expect(m.debugfs.read(f)).toBe(`${'a'.repeat(62)}b\n`);
    expect(log()).toContain(`DMA-API: enable driver filter for driver [${'a'.repeat(62)}b]`);
    m.debugfs.write(f, '-off');
    expect(m.debugfs.read(f)).toBe('');
    expect(log().filter((l) => l === 'DMA-API: switching off dma-debug driver filter')).toHaveLength(1);
    m.debugfs.write(f, ' spaced'); // filter already off: nothing to say
    expect(log().filter((l) => l === 'DMA-API: switching off dma-debug driver filter')).toHaveLength(1);
  });

  test('dump: "%s %s %s idx %d P=%pa D=%llx L=%llx cln=%pa %s %s", by bucket then insertion', async () => {
    const { m, dev } = await rig({}, { coherent: false });
    const a = m.kmalloc(1500, GFP_KERNEL);
    const pa = m.virt_to_phys(a);
    const ha = dma_map_single(dev, a, 1500, DMA_TO_DEVICE);
    dma_mapping_error(dev, ha);
    const hb = dma_map_single(dev, a, 256, DMA_FROM_DEVICE);
    const sgl = sg_init_table(1);
    const s = m.kmalloc(4096, GFP_KERNEL);
    sg_set_buf(sgl[0]!, s, 4096);
    dma_map_sg(dev, sgl, 1, DMA_BIDIRECTIONAL);
    const hex = (v: number): string => v.toString(16);
    const pa16 = (v: number): string => `0x${v.toString(16).padStart(16, '0')}`;
    const idx = (h: number): number => Math.floor(h / 8192) % 16384;
    const lines = m.debugfs.read(`${DMA_API}/dump`).split('\n').filter((l) => l !== '');
    const sp = m.virt_to_phys(s);
    const hs = sgl[0]!.dma_address;
    const expected = [
      `mynic 0000:01:00.0 phy idx ${idx(ha)} P=${pa16(pa)} D=${hex(ha)} L=5dc cln=${pa16(Math.floor(pa / 64))} DMA_TO_DEVICE dma map error checked`,
      `mynic 0000:01:00.0 phy idx ${idx(hb)} P=${pa16(pa)} D=${hex(hb)} L=100 cln=${pa16(Math.floor(pa / 64))} DMA_FROM_DEVICE dma map error not checked`,
      `mynic 0000:01:00.0 scatter-gather idx ${idx(hs)} P=${pa16(sp)} D=${hex(hs)} L=1000 cln=${pa16(Math.floor(sp / 64))} DMA_BIDIRECTIONAL dma map error check not applicable`,
    ].sort((x, y) => Number(x.split(' idx ')[1]!.split(' ')[0]) - Number(y.split(' idx ')[1]!.split(' ')[0]));
    expect(lines).toEqual(expected);
  });

  test('dump of a coherent allocation (remapped: P= is its physical address)', async () => {
    const { m, dev } = await rig();
    const c = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    const p = m.vm.translate(c.cpu_addr);
    expect(m.debugfs.read(`${DMA_API}/dump`)).toBe(
      `mynic 0000:01:00.0 coherent idx ${Math.floor(c.dma_handle / 8192) % 16384} P=0x${p.toString(16).padStart(16, '0')} D=${c.dma_handle.toString(16)} L=1000 cln=0x${Math.floor(p / 64).toString(16).padStart(16, '0')} DMA_BIDIRECTIONAL dma map error check not applicable\n`);
  });

  test('debug_dma_dump_mappings(dev) prints the same lines through dev_info()', async () => {
    const { m, dev, dbg, log } = await rig();
    const a = m.kmalloc(64, GFP_KERNEL);
    dma_map_single(dev, a, 64, DMA_TO_DEVICE);
    dbg.dump_mappings(dev);
    expect(log()).toEqual([m.debugfs.read(`${DMA_API}/dump`).trimEnd().replace('mynic 0000:01:00.0 ', 'mynic 0000:01:00.0: ')]);
  });
});
