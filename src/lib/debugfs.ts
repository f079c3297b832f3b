// debugfs as dmasim exposes it (m.debugfs): files registered by subsystems under
// /sys/kernel/debug, and tracefs under /sys/kernel/tracing (the same interface, m.tracefs), with
// the kernel's names, read formats and write semantics. A write the kernel rejects throws
// DebugfsError carrying the errno the write(2) would have returned.

import { checkString } from './validate.js';

export class DebugfsError extends Error {
  override name = 'DebugfsError';
  constructor(readonly code: keyof typeof ERRNO, readonly errno: number, path: string) {
    super(`${path}: ${code}`);
  }
}

const ERRNO = { ENOENT: 2, EBADF: 9, EACCES: 13, EISDIR: 21, EINVAL: 22, ERANGE: 34 } as const;

/** A DebugfsError for `code`, with its errno; the path is filled in by Debugfs.write(). */
export function fsError(code: keyof typeof ERRNO): DebugfsError {
  return new DebugfsError(code, ERRNO[code], '(write)');
}

/** The mount points: debugfs, and tracefs where the kernel mounts it. */
const ROOTS = ['/sys/kernel/debug', '/sys/kernel/tracing'];

export interface DebugfsFile {
  read(): string;
  /** Absent for a read-only file (mode 0400/0444). Throws DebugfsError('EINVAL') to reject. */
  write?(text: string): void;
}

/** debugfs_create_ulong()-style and DEFINE_DEBUGFS_ATTRIBUTE "%llu\n" files. */
export function ulongFile(get: () => number, set?: (v: bigint) => void): DebugfsFile {
  return {
    read: () => `${get()}\n`,
    ...(set === undefined ? {} : { write: (text: string) => set(kstrtoull(text)) }),
  };
}

/** kstrtoull(buf, 0): an optional trailing newline, base from the prefix; anything else is -EINVAL. */
export function kstrtoull(text: string): bigint {
  const s = text.endsWith('\n') ? text.slice(0, -1) : text;
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.exec(s.startsWith('+') ? s.slice(1) : s);
  if (m === null) throw fsError('EINVAL');
  const t = m[1] as string;
  const v = /^0[0-7]+$/.test(t) ? BigInt(`0o${t.slice(1)}`) : BigInt(t);
  if (v > (1n << 64n) - 1n) throw fsError('EINVAL');
  return v;
}

/**
 * kstrtoul_from_user(buf, count, 10, &val), as tracefs files parse a number: an optional '+'
 * and trailing newline, decimal digits only (-EINVAL otherwise), -ERANGE past 64 bits.
 */
export function kstrtoul10(text: string): bigint {
  const s = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (!/^\+?[0-9]+$/.test(s)) throw fsError('EINVAL');
  const v = BigInt(s.startsWith('+') ? s.slice(1) : s);
  if (v > (1n << 64n) - 1n) throw fsError('ERANGE');
  return v;
}

export class Debugfs {
  private readonly files = new Map<string, DebugfsFile>();
  private readonly dirs = new Set<string>(ROOTS);

  /** debugfs_create_dir() / tracefs_create_dir() */
  mkdir(path: string): void {
    if (!ROOTS.some((r) => path.startsWith(r))) return;
    for (let p = path; !this.dirs.has(p); p = p.slice(0, p.lastIndexOf('/'))) this.dirs.add(p);
  }

  /** debugfs_create_file() and friends. */
  create(path: string, file: DebugfsFile): void {
    this.mkdir(path.slice(0, path.lastIndexOf('/')));
    this.files.set(path, file);
  }

  read(path: string): string {
    checkString('debugfs.read', 'path', path);
    const f = this.files.get(path);
    if (f === undefined) throw new DebugfsError(this.dirs.has(path) ? 'EISDIR' : 'ENOENT', this.dirs.has(path) ? ERRNO.EISDIR : ERRNO.ENOENT, path);
    return f.read();
  }

  write(path: string, text: string): void {
    checkString('debugfs.write', 'path', path);
    checkString('debugfs.write', 'text', text);
    const f = this.files.get(path);
    if (f === undefined) throw new DebugfsError(this.dirs.has(path) ? 'EISDIR' : 'ENOENT', this.dirs.has(path) ? ERRNO.EISDIR : ERRNO.ENOENT, path);
    if (f.write === undefined) throw new DebugfsError('EACCES', ERRNO.EACCES, path);
    try {
      f.write(text);
    } catch (e) {
      if (e instanceof DebugfsError) throw new DebugfsError(e.code, e.errno, path);
      throw e;
    }
  }

  /** The names in a directory, sorted as `ls` sorts them. */
  list(dir: string): string[] {
    checkString('debugfs.list', 'dir', dir);
    const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
    if (!this.dirs.has(d)) throw new DebugfsError('ENOENT', ERRNO.ENOENT, dir);
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p.startsWith(`${d}/`)) names.add(p.slice(d.length + 1).split('/')[0] as string);
    }
    return [...names].sort();
  }
}
