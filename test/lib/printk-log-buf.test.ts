// The kernel log is a fixed-size ring like printk_ringbuffer (kernel/printk/printk.c): its
// __LOG_BUF_LEN >> PRB_AVGBITS descriptors hold the newest records, the oldest are overwritten,
// and log_buf_len= (log_buf_len_setup / log_buf_len_update) only grows it, rounded up to a power
// of two, with setup_log_buf()'s two report lines.
import { describe, expect, test } from 'vitest';
import { createMachine } from '../../src/index.js';
import { KERN_INFO, KERN_WARNING, KernelLog, LOG_BUF_SHIFT } from '../../src/lib/printk.js';
import { memparse } from '../../src/lib/cmdline.js';

const DEFAULT_RECORDS = 2 ** (LOG_BUF_SHIFT - 5);

describe('the log ring', () => {
  test('keeps the newest __LOG_BUF_LEN >> PRB_AVGBITS records in order, with their levels', () => {
    const log = new KernelLog();
    const total = DEFAULT_RECORDS + 1000;
    for (let i = 0; i < total; i++) log.printk(i % 2 === 0 ? KERN_INFO : KERN_WARNING, `line ${i}`);
    const lines = log.lines();
    expect(lines.length).toBe(DEFAULT_RECORDS);
    expect(lines[0]).toBe(`line ${total - DEFAULT_RECORDS}`);
    expect(lines[DEFAULT_RECORDS - 1]).toBe(`line ${total - 1}`);
    expect(log.entries()[1]).toEqual({ level: KERN_WARNING, text: `line ${total - DEFAULT_RECORDS + 1}` });
  });

  test('log_buf_len= grows the ring (rounded up to a power of two) and reports it', async () => {
    const m = await createMachine({ cmdline: 'log_buf_len=3M' });
    const boot = m.dmesg();
    const i = boot.indexOf('log_buf_len: 4194304 bytes');
    expect(i).toBeGreaterThan(0);
    const used = boot.slice(0, i).reduce((n, l) => n + l.length, 0);
    const free = 2 ** LOG_BUF_SHIFT - used;
    expect(boot[i + 1]).toBe(`early log buf free: ${free}(${Math.floor((free * 100) / 2 ** LOG_BUF_SHIFT)}%)`);
    for (let k = 0; k < 2 * DEFAULT_RECORDS; k++) m.log.pr_info(`x ${k}`);
    expect(m.dmesg().length).toBe(2 * DEFAULT_RECORDS);
    expect(m.dmesg()[0]).toBe('x 0');
  });

  test('a size no larger than the current buffer changes nothing; a missing value is malformed', async () => {
    const m = await createMachine({ cmdline: 'log_buf_len=64k log_buf_len' });
    expect(m.dmesg().filter((l) => l.startsWith('log_buf_len:'))).toEqual([]);
    expect(m.dmesg()).toContain("Malformed early option 'log_buf_len'");
  });
});

describe('memparse (lib/cmdline.c)', () => {
  test('base 0 numbers and K/M/G suffixes', () => {
    expect([memparse('4096'), memparse('0x1000'), memparse('010'), memparse('2k'), memparse('3M'), memparse('1G'), memparse('z')])
      .toEqual([4096, 4096, 8, 2048, 3 * 2 ** 20, 2 ** 30, 0]);
  });
});
