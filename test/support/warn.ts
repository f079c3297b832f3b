// The banner kernel/panic.c __warn() prints since v6.19 (28ea295f941e): "WARNING: <file>:<line>
// at <%pS>, CPU#<cpu>: <comm>/<pid>", or "WARNING: at <%pS>, ..." when the bug table has no file.
// dmasim's calls run on CPU 0 in kernel_init (PID 1, comm "swapper/0"), and its %pS has offset and
// size 0 (there is no machine code).

/** The WARNING line of a WARN in `fn`, at `fileLine` ("kernel/dma/debug.c:1106") when known. */
export function warning(fn: string, fileLine?: string): string {
  return `WARNING: ${fileLine === undefined ? '' : `${fileLine} `}at ${fn}+0x0/0x0, CPU#0: swapper/0/1`;
}

/** print_oops_end_marker(): the trace id is always 0 since v5.18. */
export const END_TRACE = '---[ end trace 0000000000000000 ]---';
