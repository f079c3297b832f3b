// The command line is parsed in kernel syntax (lib/cmdline.c next_arg, kernel/params.c parameq),
// and parameters nobody claims are reported as init/main.c print_unknown_bootoptions() does.
import { expect, test } from 'vitest';
import { splitArgs } from '../../src/lib/cmdline.js';
import { smallMachine } from '../support/helpers.js';

test('arguments split on spaces outside quotes, with = separating name and value', () => {
  expect(splitArgs('  swiotlb=2048,force  foo="a b"  quiet ')).toEqual([
    { param: 'swiotlb', value: '2048,force' },
    { param: 'foo', value: 'a b' },
    { param: 'quiet', value: undefined },
  ]);
});

test('known parameters are kept, unknown ones are logged once (argv_init, then envp_init), and -- ends the kernel part', async () => {
  const m = await smallMachine({ cmdline: 'swiotlb=2048 dma-debug-entries=4096 bogus=1 frob -- init=ignored', config: { DMA_API_DEBUG: true } });
  expect(m.params.get('swiotlb')).toBe('2048');
  expect(m.params.get('dma_debug_entries')).toBe('4096');
  expect(m.dmesg()).toContain('Kernel command line: swiotlb=2048 dma-debug-entries=4096 bogus=1 frob -- init=ignored');
  expect(m.dmesg()).toContain('Unknown kernel command line parameters "frob bogus=1", will be passed to user space.');
});

test('a parameter of code that is not built is unknown: dma_debug_entries= without CONFIG_DMA_API_DEBUG, coherent_pool= on x86_64', async () => {
  const m = await smallMachine({ arch: 'x86_64', cmdline: 'dma_debug_entries=4096 coherent_pool=1M' });
  expect(m.dmesg()).toContain('Unknown kernel command line parameters "dma_debug_entries=4096 coherent_pool=1M", will be passed to user space.');
});

test('the parameters every kernel claims are not unknown (init/main.c debug, quiet, loglevel=, init=; do_mounts.c root=, ro, rootwait; printk.c console=)', async () => {
  const m = await smallMachine({ cmdline: 'console=ttyAMA0,115200 root=/dev/vda2 ro rootwait quiet debug loglevel=7 ignore_loglevel init=/sbin/init' });
  expect(m.dmesg()).not.toContain('Unknown kernel command line parameters');
  expect(m.dmesg()).not.toContain('Malformed early option');
});

test('loglevel= needs a number (get_option(), else -EINVAL), and "console" or "ro=1" match no __setup() entry', async () => {
  const m = await smallMachine({ cmdline: 'loglevel=high console ro=1' });
  expect(m.dmesg()).toContain("Malformed early option 'loglevel'");
  expect(m.dmesg()).toContain('Unknown kernel command line parameters "console ro=1", will be passed to user space.');
});
