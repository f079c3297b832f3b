// The caller's source line of a report: the innermost stack frame outside dmasim (and outside
// Node), which is the driver's line that made the call that went wrong.

import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A place in the driver's source. */
export interface Site {
  /** Absolute path of the file. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * The folders that hold the library's code: dist/ for the built package (every chunk sits there)
 * and src/ beside it, where its source maps point (a stack mapped by --enable-source-maps or a
 * test runner names src/ files); src/ alone when it runs from source (tests).
 */
function libraryDirs(): string[] {
  const here = fileURLToPath(import.meta.url);
  const src = here.lastIndexOf(`${sep}src${sep}`);
  return src >= 0 ? [here.slice(0, src + 5)] : [dirname(here) + sep, join(dirname(here), '..', 'src') + sep];
}

const LIB_DIRS = libraryDirs();
const FRAME = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?$/;

/** The innermost frame of a V8 stack that is neither dmasim's nor Node's, or null. */
export function siteOf(stack: string | undefined): Site | null {
  if (stack === undefined) return null;
  for (const raw of stack.split('\n').slice(1)) {
    const m = FRAME.exec(raw.trim());
    if (m === null) continue;
    const file = (m[1] as string).startsWith('file://') ? fileURLToPath(m[1] as string) : (m[1] as string);
    if (LIB_DIRS.some((d) => file.startsWith(d)) || file.includes(`${sep}node_modules${sep}tinypool${sep}`)) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return null;
}

/** The stack of the current call, deep enough to reach the driver through dmasim's layers. */
export function stackHere(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  return stack;
}

/** `file:line` relative to the working folder, as a table shows it. */
export function siteLabel(s: Site | null): string {
  if (s === null) return '-';
  const rel = relative(process.cwd(), s.file);
  return `${rel.startsWith('..') ? s.file : rel}:${s.line}`;
}

/** The text of the site's line, trimmed ('' when the file cannot be read). */
export function siteSource(s: Site | null): string {
  if (s === null) return '';
  try {
    return (readFileSync(s.file, 'utf8').split('\n')[s.line - 1] ?? '').trim();
  } catch {
    return '';
  }
}
