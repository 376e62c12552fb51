// A one-line progress bar on a terminal (stderr, so stdout stays clean for tables and JSON); nothing at
// all when stderr is not a terminal, where commands print plain lines instead.

/** A progress report; every method is a no-op when there is no terminal. */
export interface Progress {
  /** Redraws (at most every 50 ms, and always at the end) with `done` of `total` and a label. */
  update(done: number, total: number, label?: string): void;
  /** Erases the bar. */
  finish(): void;
}

interface Terminal { isTTY?: boolean; columns?: number; write(text: string): boolean }

const REDRAW_MS = 50;

/**
 * A progress bar on `stream` when it is a terminal.
 * @param title - what is in progress, e.g. 'warmup'.
 * @param options.delayMs - draw nothing before this much time has passed: a quick job shows no bar.
 * @example
 * const bar = progressBar('validate', { delayMs: 300 });
 * bar.update(10, 200, 'stencils');
 * bar.finish();
 */
export function progressBar(title: string, { delayMs = 0, stream = process.stderr as Terminal } = {}): Progress {
  if (!stream.isTTY) return { update() {}, finish() {} };
  const started = Date.now();
  let drawnAt = 0;
  let drawn = false;
  return {
    update(done, total, label = '') {
      const now = Date.now();
      if (now - started < delayMs) return;
      if (done < total && now - drawnAt < REDRAW_MS) return;
      drawnAt = now;
      drawn = true;
      const width = 24;
      const filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : width;
      const text = `${title} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
      stream.write(`\r\x1b[K${text.slice(0, (stream.columns ?? 80) - 1)}`);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
