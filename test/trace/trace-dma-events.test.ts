// The DMA tracepoints as tracefs prints them: include/trace/events/dma.h (v7.1) TP_printk formats,
// decode_dma_data_direction() through __print_symbolic(), decode_dma_attrs() through
// __print_flags() (kernel/trace/trace_output.c trace_print_flags_seq(): nothing for 0),
// __print_array() as "{0x..,0x..}", and each event emitted where kernel/dma/mapping.c calls it.
import { describe, expect, it } from 'vitest';
import {
  createMachine, dma_alloc_coherent, dma_free_coherent, dma_map_sg, dma_map_single, dma_sync_single_for_cpu,
  dma_unmap_sg, dma_unmap_single, DMA_ATTR_SKIP_CPU_SYNC, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL, sg_dma_address, sg_init_table, sg_set_buf,
} from '../../src/index.js';

const T = '/sys/kernel/tracing';

/** The event lines of `trace`, without the task/CPU/timestamp context. */
function events(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.slice(l.indexOf(': ') + 2));
}

describe('trace/events/dma.h through /sys/kernel/tracing/trace', () => {
  it('prints each mapping call in the kernel format, in call order', async () => {
    const m = await createMachine({ arch: 'arm64', seed: 3 });
    const dev = m.createDevice({ name: '0000:01:00.0', driver: 'nic' });
    m.tracefs.write(`${T}/events/dma/enable`, '1\n');
    const buf = m.kmalloc(1500, GFP_KERNEL);
    const phys = m.virt_to_phys(buf);
    const h = dma_map_single(dev, buf, 1500, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    dma_sync_single_for_cpu(dev, h, 1500, DMA_FROM_DEVICE);
    dma_unmap_single(dev, h, 1500, DMA_TO_DEVICE);
    const hex = (v: number) => v.toString(16);
    expect(events(m.tracefs.read(`${T}/trace`))).toEqual([
      `dma_map_phys: 0000:01:00.0 dir=TO_DEVICE dma_addr=${hex(h)} size=1500 phys_addr=${hex(phys)} attrs=SKIP_CPU_SYNC`,
      `dma_sync_single_for_cpu: 0000:01:00.0 dir=FROM_DEVICE dma_addr=${hex(h)} size=1500`,
      `dma_unmap_phys: 0000:01:00.0 dir=TO_DEVICE dma_addr=${hex(h)} size=1500 attrs=`,
    ]);
  });

  it('prints scatterlists with __print_array() and allocations with show_gfp_flags()', async () => {
    const m = await createMachine({ arch: 'arm64', seed: 4 });
    const dev = m.createDevice({ name: '0000:02:00.0', driver: 'blk' });
    m.tracefs.write(`${T}/events/dma/enable`, '1');
    const sgl = sg_init_table(2);
    const a = m.kmalloc(4096, GFP_KERNEL);
    const b = m.kmalloc(512, GFP_KERNEL);
    sg_set_buf(sgl[0]!, a, 4096);
    sg_set_buf(sgl[1]!, b, 512);
    const n = dma_map_sg(dev, sgl, 2, DMA_FROM_DEVICE);
    const [da, db] = [sg_dma_address(sgl[0]!), sg_dma_address(sgl[1]!)];
    dma_unmap_sg(dev, sgl, 2, DMA_FROM_DEVICE);
    const c = dma_alloc_coherent(dev, 8192, GFP_KERNEL);
    if (c === null) throw new Error('no coherent buffer');
    dma_free_coherent(dev, 8192, c.cpu_addr, c.dma_handle);
    const x = (v: number) => `0x${v.toString(16)}`;
    const pa = x(m.virt_to_phys(a));
    const pb = x(m.virt_to_phys(b));
    const lines = events(m.tracefs.read(`${T}/trace`));
    expect(n).toBe(2);
    expect(lines[0]).toBe(`dma_map_sg: 0000:02:00.0 dir=FROM_DEVICE nents=2/2 ents=2/2 dma_addrs={${x(da)},${x(db)}} sizes={0x1000,0x200} phys_addrs={${pa},${pb}} attrs=`);
    expect(lines[1]).toBe(`dma_unmap_sg: 0000:02:00.0 dir=FROM_DEVICE phys_addrs={${pa},${pb}} attrs=`);
    expect(lines[2]).toMatch(new RegExp(`^dma_alloc: 0000:02:00.0 dir=BIDIRECTIONAL dma_addr=${c.dma_handle.toString(16)} size=8192 virt_addr=[0-9a-f]{16} flags=GFP_KERNEL attrs=$`));
    expect(lines[3]).toMatch(new RegExp(`^dma_free: 0000:02:00.0 dir=BIDIRECTIONAL dma_addr=${c.dma_handle.toString(16)} size=8192 virt_addr=[0-9a-f]{16} attrs=$`));
    expect(lines).toHaveLength(4);
  });

  it('swiotlb_bounced fires at the start of swiotlb_map() with the FORCE mode of swiotlb=force', async () => {
    const m = await createMachine({ arch: 'arm64', cmdline: 'swiotlb=1024,force', seed: 5 });
    const dev = m.createDevice({ name: '0000:03:00.0', driver: 'bnc' });
    m.tracefs.write(`${T}/events/swiotlb/enable`, '1');
    const buf = m.kmalloc(256, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);
    dma_unmap_single(dev, h, 256, DMA_TO_DEVICE);
    expect(events(m.tracefs.read(`${T}/trace`))).toEqual([
      `swiotlb_bounced: dev_name: 0000:03:00.0 dma_mask=ffffffff dev_addr=${m.virt_to_phys(buf).toString(16)} size=256 FORCE`,
    ]);
  });
});
