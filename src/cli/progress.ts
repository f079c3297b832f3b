// The CLI's progress bar: on stderr, only on a terminal, only once a run has taken a second.
// The ETA is shown once it can be estimated (some progress made) and is a finite number, and the
// cursor, hidden while the bar is drawn, comes back on stop, on Ctrl-C and on any exit.

export interface Progress {
  update(fraction: number): void;
  stop(): void;
}

const WIDTH = 30;
const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';

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

/** A bar on `stream` (a terminal) once `delayMs` have passed. */
export function progressBar(enabled: boolean, stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr, delayMs = 1000): Progress {
  const t0 = performance.now();
  let shown = false;
  const restore = (): void => {
    if (shown) stream.write(`\r\x1b[2K${SHOW_CURSOR}`);
    shown = false;
  };
  const onSigint = (): void => {
    restore();
    process.exit(130);
  };
  return {
    update(fraction) {
      if (!enabled || !stream.isTTY) return;
      const elapsed = performance.now() - t0;
      if (!shown) {
        if (elapsed < delayMs) return;
        shown = true;
        stream.write(HIDE_CURSOR);
        process.once('SIGINT', onSigint);
        process.once('exit', restore);
      }
      stream.write(`\r${formatBar(fraction, formatEta(elapsed, fraction))}`);
    },
    stop() {
      restore();
      process.removeListener('SIGINT', onSigint);
      process.removeListener('exit', restore);
    },
  };
}
