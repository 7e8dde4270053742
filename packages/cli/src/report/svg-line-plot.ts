/**
 * A small SVG line-plot helper for the HTML report: several series on shared axes, drawn as
 * `<path>` elements, with axis ticks, labels and a legend. All text is escaped.
 */
import { escapeHtml } from './escape-html';

/** One line of a plot. */
export interface PlotSeries {
  /** Legend text. */
  readonly label: string;
  /** x values (same length as `y`). */
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** A CSS colour; default: from a fixed palette. */
  readonly color?: string;
  /** Dashed line. */
  readonly dashed?: boolean;
}

/** Options of {@link svgLinePlot}. */
export interface LinePlotOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Width and height in pixels (default 360 × 240). */
  readonly width?: number;
  readonly height?: number;
  /** Axis ranges; default: the data's range (y from 0 when all values are ≥ 0). */
  readonly xRange?: readonly [number, number];
  readonly yRange?: readonly [number, number];
}

/** A colour-blind-friendly palette (Okabe–Ito). */
export const PLOT_PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 2 : 1);
}

function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * Renders series as an inline `<svg class="plot">` element. Non-finite points are skipped (the
 * line breaks there). Every series with at least one finite point becomes a `<path>` whose `d` is
 * non-empty.
 *
 * ```ts
 * svgLinePlot([{ label: 'insertion', x: [0, 0.5, 1], y: [0.1, 0.8, 0.9] }], { title: 'Grad-CAM' });
 * ```
 */
export function svgLinePlot(series: readonly PlotSeries[], options: LinePlotOptions = {}): string {
  const width = options.width ?? 360;
  const height = options.height ?? 240;
  const margin = { left: 48, right: 12, top: options.title ? 26 : 12, bottom: 40 };
  const finite = (v: number) => Number.isFinite(v);
  const xs = series.flatMap((s) => s.x.filter(finite));
  const ys = series.flatMap((s) => s.y.filter(finite));
  let [x0, x1] = options.xRange ?? [xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1];
  let [y0, y1] = options.yRange ?? [ys.length ? Math.min(0, Math.min(...ys)) : 0, ys.length ? Math.max(...ys) : 1];
  if (!(x1 > x0)) [x0, x1] = [x0 - 0.5, x0 + 0.5];
  if (!(y1 > y0)) [y0, y1] = [y0 - 0.5, y0 + 0.5];
  const pw = width - margin.left - margin.right;
  const ph = height - margin.top - margin.bottom;
  const sx = (v: number) => margin.left + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => margin.top + ph - ((v - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"${options.title ? ` aria-label="${escapeHtml(options.title)}"` : ''}>`,
  );
  if (options.title) parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(options.title)}</text>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks(x0, x1)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${margin.top + ph}" x2="${x}" y2="${margin.top + ph + 4}" stroke="#999"/>`);
    parts.push(`<text x="${x}" y="${margin.top + ph + 16}" text-anchor="middle" font-size="10">${fmt(t)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${margin.left - 4}" y1="${y}" x2="${margin.left + pw}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="10">${fmt(t)}</text>`);
  }
  if (options.xLabel) parts.push(`<text x="${margin.left + pw / 2}" y="${height - 6}" text-anchor="middle" font-size="11">${escapeHtml(options.xLabel)}</text>`);
  if (options.yLabel) {
    parts.push(`<text transform="translate(12 ${margin.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escapeHtml(options.yLabel)}</text>`);
  }
  series.forEach((s, i) => {
    const color = s.color ?? PLOT_PALETTE[i % PLOT_PALETTE.length]!;
    let d = '';
    let pen = false;
    const n = Math.min(s.x.length, s.y.length);
    for (let k = 0; k < n; k++) {
      const xv = s.x[k]!;
      const yv = s.y[k]!;
      if (!finite(xv) || !finite(yv)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(xv).toFixed(2)} ${sy(yv).toFixed(2)}`;
      pen = true;
    }
    if (d) {
      parts.push(
        `<path class="series" d="${d}" fill="none" stroke="${escapeHtml(color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${escapeHtml(s.label)}</title></path>`,
      );
    }
    const ly = margin.top + 8 + i * 14;
    const lx = margin.left + pw - 110;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 16}" y2="${ly}" stroke="${escapeHtml(color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${lx + 20}" y="${ly}" dominant-baseline="middle" font-size="10">${escapeHtml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
