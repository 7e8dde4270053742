import type * as tf from '@tensorflow/tfjs-core';
import { assertFinite, formatShape, ShapeError } from '@lico/core';

/** The result of {@link sparseness}. */
export interface SparsenessResult {
  /** Per image, the Gini index of its absolute attribution, in [0, 1). */
  readonly scores: number[];
  /** Mean over images. */
  readonly mean: number;
}

/** The offset Quantus adds to every value before the Gini index (so an all-zero map scores 0, not NaN). */
const GINI_OFFSET = 1e-7;

/**
 * The Gini index of non-negative values, closed form: with `a` sorted ascending,
 * `Σ_i (2i − n − 1) a_(i) / (n Σ a)` (`i = 1…n`). A one-hot vector gives `1 − 1/n`, a constant one 0.
 * No offset is added here (an all-zero vector gives NaN).
 */
export function giniIndex(values: ArrayLike<number>): number {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  let weighted = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    weighted += (2 * (i + 1) - n - 1) * a[i]!;
    total += a[i]!;
  }
  return weighted / (n * total);
}

/**
 * Sparseness (Chalasani et al. 2020; Quantus' `Sparseness` with its defaults `abs=True`,
 * `normalise=True`): per image, the Gini index ({@link giniIndex}) of `|a| / max|a| + 1e-7` over
 * all its values (`[N,H,W]` maps or `[N,H,W,C]` attributions). **Higher is sparser** (1 − 1/n for a
 * single non-zero value, 0 for a constant map), which Quantus counts as better.
 */
export async function sparseness(saliency: tf.Tensor): Promise<SparsenessResult> {
  if (saliency.rank !== 3 && saliency.rank !== 4) {
    throw new ShapeError(`saliency must be [N,H,W] or [N,H,W,C], got ${formatShape(saliency.shape)}.`);
  }
  if (saliency.shape[0] === 0 || saliency.size === 0) throw new ShapeError(`saliency must hold at least one value per image, got ${formatShape(saliency.shape)}.`);
  assertFinite(saliency, 'saliency');
  const n = saliency.shape[0];
  const size = saliency.size / n;
  const data = await saliency.data();
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = new Float64Array(size);
    let max = 0;
    for (let p = 0; p < size; p++) {
      a[p] = Math.abs(data[i * size + p]!);
      max = Math.max(max, a[p]!);
    }
    for (let p = 0; p < size; p++) a[p] = (max > 0 ? a[p]! / max : 0) + GINI_OFFSET;
    scores.push(giniIndex(a));
  }
  return { scores, mean: scores.reduce((s, v) => s + v, 0) / n };
}
