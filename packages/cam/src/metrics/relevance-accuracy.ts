import type * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, ConfigError, formatShape, ShapeError } from '@lico/core';
import { saliencyRanks } from './saliency-order';

/** The result of {@link relevanceMassAccuracy} and {@link relevanceRankAccuracy}. */
export interface RelevanceAccuracyResult {
  /** Per image, in [0, 1]; NaN for an empty mask (and, for the mass, for an all-zero map). */
  readonly scores: number[];
  /** Mean over images with a defined score (NaN if none). */
  readonly mean: number;
}

async function checkedPair(saliency: tf.Tensor3D, masks: tf.Tensor3D): Promise<{ s: ArrayLike<number>; m: ArrayLike<number> }> {
  assertRank(saliency, 3, 'saliency');
  assertRank(masks, 3, 'masks');
  if (saliency.shape.some((d, i) => d !== masks.shape[i])) {
    throw new ShapeError(`masks must have the shape of saliency ${formatShape(saliency.shape)}, got ${formatShape(masks.shape)}.`);
  }
  assertFinite(saliency, 'saliency');
  const s = await saliency.data();
  const m = await masks.data();
  for (let p = 0; p < m.length; p++) {
    if (m[p] !== 0 && m[p] !== 1) throw new ConfigError(`masks must be binary (0 or 1), got ${m[p]} at flat index ${p}.`);
  }
  return { s, m };
}

function summarize(scores: number[]): RelevanceAccuracyResult {
  const defined = scores.filter((v) => !Number.isNaN(v));
  return { scores, mean: defined.length === 0 ? Number.NaN : defined.reduce((a, b) => a + b, 0) / defined.length };
}

/**
 * Relevance Mass Accuracy (Arras et al. 2022; Quantus' `RelevanceMassAccuracy`, `abs=True`): per
 * image, `Σ_{p∈mask} |a_p| / Σ_p |a_p|` against a binary ground-truth mask. **Higher is better**
 * (1 when all the attribution lies inside the mask). NaN for an empty mask or an all-zero map.
 */
export async function relevanceMassAccuracy(saliency: tf.Tensor3D, masks: tf.Tensor3D): Promise<RelevanceAccuracyResult> {
  const { s, m } = await checkedPair(saliency, masks);
  const [n, h, w] = saliency.shape;
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    let inside = 0;
    let total = 0;
    let area = 0;
    for (let p = i * h * w; p < (i + 1) * h * w; p++) {
      const a = Math.abs(s[p]!);
      total += a;
      if (m[p] === 1) {
        inside += a;
        area++;
      }
    }
    scores.push(area === 0 || total === 0 ? Number.NaN : inside / total);
  }
  return summarize(scores);
}

/**
 * Relevance Rank Accuracy (Arras et al. 2022; Quantus' `RelevanceRankAccuracy`, `abs=True`): per
 * image with `K` mask pixels, the fraction of the `K` highest `|a|` pixels that lie inside the
 * mask (ties: the higher flat index ranks first, as a stable `np.argsort` read from the end).
 * **Higher is better**. NaN for an empty mask.
 */
export async function relevanceRankAccuracy(saliency: tf.Tensor3D, masks: tf.Tensor3D): Promise<RelevanceAccuracyResult> {
  const { s, m } = await checkedPair(saliency, masks);
  const [n, h, w] = saliency.shape;
  const size = h * w;
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const abs = Float64Array.from({ length: size }, (_, p) => Math.abs(s[i * size + p]!));
    let k = 0;
    for (let p = 0; p < size; p++) k += m[i * size + p] === 1 ? 1 : 0;
    if (k === 0) {
      scores.push(Number.NaN);
      continue;
    }
    const rank = saliencyRanks(abs);
    let hits = 0;
    for (let p = 0; p < size; p++) if (rank[p]! < k && m[i * size + p] === 1) hits++;
    scores.push(hits / k);
  }
  return summarize(scores);
}
