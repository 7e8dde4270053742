/**
 * A single-line progress bar with rate and ETA. On a TTY it redraws one line with `\r`; elsewhere
 * (logs, CI) it prints a plain line every `percentStep` percent or every `intervalMs`, whichever
 * comes first. It owns no timers: it only draws when `tick`/`update`/`done` is called, so it can
 * never keep a process alive or leak.
 */

/** Where the bar writes: `process.stderr` by default; anything with `write` works. */
export interface ProgressStream {
  write(chunk: string): unknown;
  /** True for an interactive terminal (redraw with `\r`). */
  readonly isTTY?: boolean;
  /** Terminal width, used to fit the line. */
  readonly columns?: number;
}

/** Options of {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** Number of units when done (e.g. batches, images). */
  readonly total: number;
  /** Text before the bar, e.g. `'epoch 3/200'`. */
  readonly label?: string;
  /** Default `process.stderr`. */
  readonly stream?: ProgressStream;
  /** Unit name for the rate, e.g. `'img'` → `123.4 img/s` (default `'it'`). */
  readonly unit?: string;
  /** Width of the bar in characters (default 24). */
  readonly width?: number;
  /** Non-TTY: print at most once per this many percent (default 10). */
  readonly percentStep?: number;
  /** Non-TTY: also print when this many ms passed since the last line (default 5000); TTY: min redraw interval (default 100). */
  readonly intervalMs?: number;
  /** Clock in ms (default `performance.now`), injectable for tests. */
  readonly now?: () => number;
  /** Force TTY (redraw) or line mode regardless of the stream. */
  readonly tty?: boolean;
  /** Units already done before this bar started (e.g. on a resume): shown, but left out of the rate and ETA. */
  readonly initial?: number;
}

/** A progress bar created by {@link createProgressBar}. */
export interface ProgressBar {
  /** Advances by `n` units (default 1); `info` is shown after the rate (e.g. `'loss 0.41'`). */
  tick(n?: number, info?: string): void;
  /** Sets the absolute position. */
  update(current: number, info?: string): void;
  /** Draws the final line (with total elapsed time) and ends it with a newline. Idempotent. */
  done(info?: string): void;
  /** Units done so far. */
  readonly current: number;
  /** The line that would be drawn now (without `\r`/newline). */
  render(info?: string): string;
}

/** Formats seconds as `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (x: number): string => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return '-';
  if (rate >= 100) return rate.toFixed(0);
  if (rate >= 10) return rate.toFixed(1);
  return rate.toFixed(2);
}

/** Creates a progress bar (see the module comment for TTY vs. log behaviour). */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const total = options.total;
  if (!Number.isFinite(total) || total < 0) throw new RangeError(`progress total must be a finite number >= 0, got ${total}`);
  const stream: ProgressStream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const unit = options.unit ?? 'it';
  const width = options.width ?? 24;
  const percentStep = options.percentStep ?? 10;
  const intervalMs = options.intervalMs ?? (tty ? 100 : 5000);
  const now = options.now ?? (() => performance.now());
  const label = options.label ? `${options.label} ` : '';
  const start = now();
  const initial = Math.max(0, Math.min(total, options.initial ?? 0));
  let current = initial;
  let lastDraw = -Infinity;
  let lastPercentBucket = -1;
  let finished = false;
  let lastInfo = '';

  const render = (info?: string, final = false): string => {
    const elapsed = (now() - start) / 1000;
    const frac = total > 0 ? Math.min(1, current / total) : 1;
    const filled = Math.round(frac * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const rate = elapsed > 0 ? (current - initial) / elapsed : Number.NaN;
    const eta = rate > 0 ? (total - current) / rate : Number.NaN;
    const time = final ? `${formatDuration(elapsed)} total` : `${formatDuration(elapsed)}<${formatDuration(eta)}`;
    const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
    let line = `${label}${pct} |${bar}| ${current}/${total} [${time}, ${formatRate(rate)} ${unit}/s]`;
    const extra = info ?? lastInfo;
    if (extra) line += ` ${extra}`;
    if (tty && stream.columns && line.length > stream.columns - 1) line = line.slice(0, Math.max(0, stream.columns - 1));
    return line;
  };

  const maybeDraw = (info?: string): void => {
    if (info !== undefined) lastInfo = info;
    const t = now();
    if (tty) {
      if (t - lastDraw < intervalMs && current < total) return;
      lastDraw = t;
      stream.write(`\r${render(info)}\x1b[K`);
      return;
    }
    const bucket = total > 0 ? Math.floor(((current / total) * 100) / percentStep) : 0;
    if (bucket > lastPercentBucket || t - lastDraw >= intervalMs) {
      lastPercentBucket = Math.max(bucket, lastPercentBucket);
      lastDraw = t;
      stream.write(`${render(info)}\n`);
    }
  };

  return {
    tick(n = 1, info) {
      if (finished) return;
      current = Math.min(total, current + n);
      maybeDraw(info);
    },
    update(value, info) {
      if (finished) return;
      current = Math.max(0, Math.min(total, value));
      maybeDraw(info);
    },
    done(info) {
      if (finished) return;
      finished = true;
      if (info !== undefined) lastInfo = info;
      stream.write(`${tty ? '\r' : ''}${render(info, true)}${tty ? '\x1b[K' : ''}\n`);
    },
    get current() {
      return current;
    },
    render: (info) => render(info),
  };
}
