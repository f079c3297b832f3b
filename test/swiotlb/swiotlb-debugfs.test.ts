// kernel/dma/swiotlb.c swiotlb_create_debugfs_files(), under /sys/kernel/debug/swiotlb/:
//   debugfs_create_ulong("io_tlb_nslabs", 0400, ...)                     "%llu\n"
//   DEFINE_DEBUGFS_ATTRIBUTE(fops_io_tlb_used, io_tlb_used_get, NULL, "%llu\n")    mode 0400
//   DEFINE_DEBUGFS_ATTRIBUTE(fops_io_tlb_hiwater, io_tlb_hiwater_get, io_tlb_hiwater_set, "%llu\n")
//     io_tlb_hiwater_set(): "Only allow setting to zero": val != 0 -> -EINVAL
// With CONFIG_DEBUG_FS, inc_used_and_hiwater() raises used_hiwater to total_used (cmpxchg loop)
// and dec_used() lowers total_used only. A write to an attribute without a setter is -EACCES
// (fs/libfs.c simple_attr_write: `if (!attr->set) return -EACCES;`).
import { describe, expect, it } from 'vitest';
import { DebugfsError } from '../../src/lib/debugfs.js';
import { debugfsErrno as errno } from '../support/helpers.js';
import { createMachine, DMA_TO_DEVICE, GFP_KERNEL } from '../../src/index.js';

const DIR = '/sys/kernel/debug/swiotlb';

describe('/sys/kernel/debug/swiotlb', () => {
  it('io_tlb_nslabs, io_tlb_used and io_tlb_used_hiwater read as "%llu\\n" and follow the pool', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=512', seed: 29 });
    const s = m.swiotlb;
    if (s === null) throw new Error('no pool');
    expect(m.debugfs.list(DIR)).toEqual(['io_tlb_nslabs', 'io_tlb_used', 'io_tlb_used_hiwater']);
    expect(m.debugfs.read(`${DIR}/io_tlb_nslabs`)).toBe('512\n');
    expect(m.debugfs.read(`${DIR}/io_tlb_used`)).toBe('0\n');
    expect(m.debugfs.read(`${DIR}/io_tlb_used_hiwater`)).toBe('0\n');

    const dev = m.createDevice({ name: '0000:0b:00.0', driver: 'dbg' });
    const orig = m.virt_to_phys(m.kmalloc(65536, GFP_KERNEL));
    const a = s.swiotlb_tbl_map_single(dev, orig, 5000, 0, 0); // 3 slots
    const b = s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0); // 1 slot
    expect(m.debugfs.read(`${DIR}/io_tlb_used`)).toBe('4\n');
    expect(m.debugfs.read(`${DIR}/io_tlb_used_hiwater`)).toBe('4\n');
    s.swiotlb_tbl_unmap_single(dev, a, 5000, DMA_TO_DEVICE, 0);
    expect(m.debugfs.read(`${DIR}/io_tlb_used`)).toBe('1\n');
    expect(m.debugfs.read(`${DIR}/io_tlb_used_hiwater`)).toBe('4\n'); // a high-water mark

    m.debugfs.write(`${DIR}/io_tlb_used_hiwater`, '0\n');
    expect(m.debugfs.read(`${DIR}/io_tlb_used_hiwater`)).toBe('0\n'); // set to 0, not to used
    expect(m.debugfs.read(`${DIR}/io_tlb_used`)).toBe('1\n');
    const c = s.swiotlb_tbl_map_single(dev, orig, 100, 0, 0);
    expect(m.debugfs.read(`${DIR}/io_tlb_used_hiwater`)).toBe('2\n');
    s.swiotlb_tbl_unmap_single(dev, b, 100, DMA_TO_DEVICE, 0);
    s.swiotlb_tbl_unmap_single(dev, c, 100, DMA_TO_DEVICE, 0);
    expect(m.debugfs.read(`${DIR}/io_tlb_used`)).toBe('0\n');
    expect(m.debugfs.read(`${DIR}/io_tlb_used_hiwater`)).toBe('2\n');
  });

  it('writing anything but 0 to io_tlb_used_hiwater is EINVAL and changes nothing', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=512', seed: 29 });
    const s = m.swiotlb;
    if (s === null) throw new Error('no pool');
    const dev = m.createDevice({ name: '0000:0b:00.0', driver: 'dbg' });
    s.swiotlb_tbl_map_single(dev, m.virt_to_phys(m.kmalloc(8192, GFP_KERNEL)), 3000, 0, 0);
    expect(errno(() => m.debugfs.write(`${DIR}/io_tlb_used_hiwater`, '5'))).toBe('EINVAL');
    expect(errno(() => m.debugfs.write(`${DIR}/io_tlb_used_hiwater`, 'abc'))).toBe('EINVAL');
    expect(m.debugfs.read(`${DIR}/io_tlb_used_hiwater`)).toBe('2\n');
    expect(s.usedHiwater).toBe(2);
    m.debugfs.write(`${DIR}/io_tlb_used_hiwater`, '0'); // kstrtoull: no newline needed either
    expect(s.usedHiwater).toBe(0);
  });

  it('io_tlb_used has no setter: EACCES; a missing file: ENOENT', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=512', seed: 29 });
    expect(errno(() => m.debugfs.write(`${DIR}/io_tlb_used`, '0'))).toBe('EACCES');
    expect(m.debugfs.read(`${DIR}/io_tlb_used`)).toBe('0\n');
    expect(errno(() => m.debugfs.read(`${DIR}/io_tlb_transient_nslabs`))).toBe('ENOENT'); // no SWIOTLB_DYNAMIC
    expect(errno(() => m.debugfs.read(`${DIR}/nope`))).toBe('ENOENT');
    const e = (() => { try { m.debugfs.read(`${DIR}/nope`); } catch (x) { return x; } return null; })();
    expect(e).toBeInstanceOf(DebugfsError);
    expect((e as DebugfsError).errno).toBe(2);
  });
});
