// The CLI's progress bar: on stderr, only on a terminal, only once a run has taken a second.
// The ETA is shown once it can be estimated (some progress made) and is a finite number. The
// cursor is never hidden: a hidden cursor needs a SIGINT handler to come back on Ctrl-C, and a
// handler would keep Ctrl-C from stopping a synchronous run (the NIC loop) until it ended.

export interface Progress {
  update(fraction: number): void;
  stop(): void;
}

const WIDTH = 30;

/** "ETA 12s", or "ETA 2m05s"; nothing while the remaining time cannot be estimated. */
export function formatEta(elapsedMs: number, fraction: number): string {
  if (!(fraction > 0) || fraction >= 1 || !Number.isFinite(elapsedMs)) return '';
  const s = Math.ceil((elapsedMs * (1 - fraction)) / fraction / 1000);
  if (!Number.isFinite(s)) return '';
  return s < 60 ? `ETA ${s}s` : `ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** One line of the bar: `[#####.....]  42% | ETA 3s`. */
export function formatBar(fraction: number, eta: string): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(f * 100)).padStart(3)}%${eta ? ` | ${eta}` : ''}`;
}

/** A bar on `stream` (a terminal) once `delayMs` have passed; stop() erases it. */
export function progressBar(enabled: boolean, stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr, delayMs = 1000): Progress {
  const t0 = performance.now();
  let shown = false;
  return {
    update(fraction) {
      if (!enabled || !stream.isTTY) return;
      const elapsed = performance.now() - t0;
      if (!shown && elapsed < delayMs) return;
      shown = true;
      stream.write(`\r${formatBar(fraction, formatEta(elapsed, fraction))}`);
    },
    stop() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

/** Runs `work`, feeding a bar through the onProgress callback it is given; the bar is erased however the work ends. */
export async function withProgress<T>(enabled: boolean, work: (onProgress: (fraction: number) => void) => T | Promise<T>): Promise<T> {
  const bar = progressBar(enabled);
  try {
    return await work((x) => bar.update(x));
  } finally {
    bar.stop();
  }
}
