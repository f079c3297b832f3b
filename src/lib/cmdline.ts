// The kernel command line: lib/cmdline.c next_arg() tokenising, kernel/params.c parameq()
// matching, and init/main.c's report of parameters nobody claimed.

import type { KernelLog } from './printk.js';

/** A boot parameter handler (__setup / early_param): returns false if the value is rejected. */
export type ParamHandler = (value: string | undefined) => boolean;

interface Arg {
  readonly param: string;
  readonly value: string | undefined;
}

/** next_arg(): splits on spaces outside double quotes; quotes are removed, `=` splits name and value. */
export function splitArgs(cmdline: string): Arg[] {
  const args: Arg[] = [];
  let i = 0;
  while (i < cmdline.length) {
    while (i < cmdline.length && /\s/.test(cmdline.charAt(i))) i++;
    if (i >= cmdline.length) break;
    let inQuote = false;
    let token = '';
    for (; i < cmdline.length; i++) {
      const c = cmdline.charAt(i);
      if (c === '"') { inQuote = !inQuote; continue; }
      if (!inQuote && /\s/.test(c)) break;
      token += c;
    }
    const eq = token.indexOf('=');
    args.push(eq < 0 ? { param: token, value: undefined } : { param: token.slice(0, eq), value: token.slice(eq + 1) });
  }
  return args;
}

/** parameq(): dashes and underscores are interchangeable in parameter names. */
function normalise(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * parse_args() over the registered handlers. Everything after `--` goes to init, so it is not
 * ours to report; the rest that no handler claims is reported once, as start_kernel() does.
 */
export function parseCmdline(cmdline: string, handlers: ReadonlyMap<string, ParamHandler>, log: KernelLog): void {
  log.pr_notice(`Kernel command line: ${cmdline}`);
  const unknown: string[] = [];
  for (const arg of splitArgs(cmdline)) {
    if (arg.param === '--') break;
    const handler = handlers.get(normalise(arg.param));
    if (handler === undefined) {
      unknown.push(arg.value === undefined ? arg.param : `${arg.param}=${arg.value}`);
    } else if (!handler(arg.value)) {
      log.pr_warn(`Malformed early option '${arg.param}'`);
    }
  }
  if (unknown.length > 0) {
    log.pr_notice(`Unknown kernel command line parameters "${unknown.join(' ')}", will be passed to user space.`);
  }
}

/**
 * memparse(), lib/cmdline.c: simple_strtoull() with base 0 (0x hex, leading 0 octal, else
 * decimal), then an optional K/M/G/T/P/E suffix, each a further shift by 10. No digits is 0.
 */
export function memparse(s: string): number {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?([kKmMgGtTpPeE]?)/.exec(s) as RegExpExecArray;
  const digits = m[1] ?? '';
  const base = /^0[xX]/.test(digits) ? 16 : digits.length > 1 && digits.startsWith('0') ? 8 : 10;
  let v = digits === '' ? 0 : parseInt(base === 16 ? digits.slice(2) : digits, base);
  const suffix = m[2] ?? '';
  const shifts = suffix === '' ? 0 : 'KMGTPE'.indexOf(suffix.toUpperCase()) + 1;
  for (let i = 0; i < shifts; i++) v *= 1024;
  return v;
}
