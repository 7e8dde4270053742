import { ConfigError, ShapeError } from '@lico/core';

/** Options of {@link ssim}. */
export interface SsimOptions {
  /**
   * Side of the square window (odd, ≥ 3; default 7, skimage's `win_size`). A map smaller than the
   * window in either side uses the largest odd side that fits (skimage raises there instead).
   */
  readonly window?: number;
  /** The data range `L` of `C1 = (0.01 L)²`, `C2 = (0.03 L)²` (default: max − min over both maps, as Quantus' `ssim`). */
  readonly dataRange?: number;
}

/**
 * Structural similarity of two `[H,W]` maps (flat, row-major) as Quantus' `ssim` computes it with
 * skimage's `structural_similarity` defaults: uniform `window × window` windows, sample
 * (co)variances (`N/(N−1)`), `K1 = 0.01`, `K2 = 0.03`, data range max − min of both maps, and the
 * mean of the per-window index over the windows that lie inside the map (skimage's crop of
 * `(window−1)/2` at each edge). 1 for identical maps; NaN for a map too small for a 3×3 window.
 * Two identical constant maps (data range 0) give 1.
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number, options: SsimOptions = {}): number {
  if (a.length !== height * width || b.length !== height * width) {
    throw new ShapeError(`ssim: expected two maps of ${height}×${width} = ${height * width} values, got ${a.length} and ${b.length}.`);
  }
  const requested = options.window ?? 7;
  if (!Number.isInteger(requested) || requested < 3 || requested % 2 === 0) throw new ConfigError(`ssim window must be an odd integer ≥ 3, got ${requested}.`);
  const fit = Math.min(height, width);
  const win = Math.min(requested, fit % 2 === 1 ? fit : fit - 1);
  if (win < 3) return Number.NaN;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < a.length; p++) {
    lo = Math.min(lo, a[p]!, b[p]!);
    hi = Math.max(hi, a[p]!, b[p]!);
  }
  const range = options.dataRange ?? hi - lo;
  if (range === 0) {
    for (let p = 0; p < a.length; p++) if (a[p] !== b[p]) return Number.NaN;
    return 1;
  }
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  const count = win * win;
  const norm = count / (count - 1);
  let total = 0;
  let windows = 0;
  for (let r0 = 0; r0 + win <= height; r0++) {
    for (let c0 = 0; c0 + win <= width; c0++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let r = r0; r < r0 + win; r++) {
        for (let c = c0; c < c0 + win; c++) {
          const x = a[r * width + c]!;
          const y = b[r * width + c]!;
          sa += x;
          sb += y;
          saa += x * x;
          sbb += y * y;
          sab += x * y;
        }
      }
      const ua = sa / count;
      const ub = sb / count;
      const va = norm * (saa / count - ua * ua);
      const vb = norm * (sbb / count - ub * ub);
      const vab = norm * (sab / count - ua * ub);
      total += ((2 * ua * ub + c1) * (2 * vab + c2)) / ((ua * ua + ub * ub + c1) * (va + vb + c2));
      windows++;
    }
  }
  return total / windows;
}
