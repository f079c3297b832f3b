// The kernel command line: lib/cmdline.c next_arg() tokenising, kernel/params.c parameq()
// matching, init/main.c's two passes (parse_early_param() from setup_arch(), parse_args() from
// start_kernel()) and its report of parameters nobody claimed.

import type { KernelLog } from './printk.js';

/** A boot parameter handler (__setup / early_param): returns false if the value is rejected. */
export type ParamHandler = (value: string | undefined) => boolean;

/**
 * A boot parameter dmasim understands: early_param() handlers run from parse_early_param() in
 * setup_arch(), __setup() ones from parse_args() in start_kernel() (obsolete_checksetup()).
 */
export interface BootParam {
  readonly early: boolean;
  readonly setup: ParamHandler;
}

/**
 * Parameters every kernel claims, which dmasim accepts and leaves without effect because it has
 * no console (dmesg shows every level) and no root file system or init to start; without them a
 * common command line would list them as unknown. init/main.c: early_param("debug"),
 * early_param("quiet") (console_loglevel only), early_param("loglevel") (get_option() must find a
 * number, else -EINVAL: "Malformed early option"), __setup("init=") and __setup("rdinit=");
 * init/do_mounts.c: __setup("root="), __setup("ro"), __setup("rw"), __setup("rootwait") and
 * __setup("rootwait=") (since 6.4);
 * kernel/printk/printk.c: __setup("console=") (console_setup() claims any value, but plain
 * "console" matches no "console=" entry) and early_param("ignore_loglevel").
 */
export const CORE_BOOT_PARAMS: ReadonlyMap<string, BootParam> = new Map<string, BootParam>([
  ['debug', { early: true, setup: () => true }],
  ['quiet', { early: true, setup: () => true }],
  ['loglevel', { early: true, setup: (value) => value !== undefined && /^-?\d/.test(value) }],
  ['ignore_loglevel', { early: true, setup: () => true }],
  ...['init', 'rdinit', 'root', 'console'].map((n): [string, BootParam] => [n, { early: false, setup: (value) => value !== undefined }]),
  ...['ro', 'rw'].map((n): [string, BootParam] => [n, { early: false, setup: (value) => value === undefined }]),
  ['rootwait', { early: false, setup: () => true }],
]);

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

/** parse_args() stops at `--`: what follows goes to init. */
function argsBeforeDashes(cmdline: string): Arg[] {
  const args = splitArgs(cmdline);
  const dashes = args.findIndex((a) => a.param === '--' && a.value === undefined);
  return dashes < 0 ? args : args.slice(0, dashes);
}

/**
 * parse_early_param(), init/main.c: do_early_param() runs every early_param() handler whose name
 * matches, and reports one that fails; nothing is reported unknown at this stage.
 */
export function parse_early_param(cmdline: string, params: ReadonlyMap<string, BootParam>, log: KernelLog): void {
  for (const arg of argsBeforeDashes(cmdline)) {
    const p = params.get(normalise(arg.param));
    if (p?.early === true && !p.setup(arg.value)) log.pr_warn(`Malformed early option '${arg.param}'`);
  }
}

/** unknown_bootoption()'s bootloader identifiers, dropped like module parameters. */
const BOOTLOADER_IDS = ['BOOT_IMAGE=', 'kexec'];

/**
 * start_kernel()'s "Kernel command line:", then parse_args() with unknown_bootoption(): an early
 * parameter was handled already, a __setup() one runs now (obsolete_checksetup()); of the rest,
 * one with a '.' is an unused module parameter and a bootloader identifier is ignored, and the
 * others go to init: argv_init[] without a value, envp_init[] with one (a name given twice keeps
 * the last value, in the first one's place; HOME=/ and TERM=linux are envp_init[0..1]).
 * print_unknown_bootoptions() lists argv_init[1..] and then envp_init[2..].
 */
export function parse_args(cmdline: string, params: ReadonlyMap<string, BootParam>, log: KernelLog): void {
  log.pr_notice(`Kernel command line: ${cmdline}`);
  const argv = ['init'];
  const envp = ['HOME=/', 'TERM=linux'];
  for (const arg of argsBeforeDashes(cmdline)) {
    const p = params.get(normalise(arg.param));
    if (p !== undefined && (p.early || p.setup(arg.value))) continue;
    const text = arg.value === undefined ? arg.param : `${arg.param}=${arg.value}`;
    if (arg.param.includes('.') || BOOTLOADER_IDS.some((id) => text.startsWith(id))) continue;
    if (arg.value === undefined) {
      argv.push(text);
    } else {
      const i = envp.findIndex((e) => e.startsWith(`${arg.param}=`));
      if (i < 0) envp.push(text);
      else envp[i] = text;
    }
  }
  const unknown = [...argv.slice(1), ...envp.slice(2)];
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
