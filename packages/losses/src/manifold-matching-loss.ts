import * as tf from '@tensorflow/tfjs-core';
import { assertOneOf, assertRank, ConfigError, NonFiniteError } from '@lico/core';
import { l2Normalize } from './l2-normalize';
import { checkInput, checkSameDim } from './validate';

/** The sign of the distances in the manifold-matching softmax. */
export type ManifoldMatchingSign = 'negative' | 'positive';

/** Valid values of {@link ManifoldMatchingSign}. */
export const MANIFOLD_MATCHING_SIGNS: readonly ManifoldMatchingSign[] = ['negative', 'positive'];

/** Floor of squared distances before the square root (spec: 1e-4). */
export const SQUARED_DISTANCE_FLOOR = 1e-4;

/** The spec's initial temperature, `log(1/0.07) ≈ 2.659`. */
export const DEFAULT_TEMPERATURE = Math.log(1 / 0.07);

/** Options of {@link manifoldMatchingLoss}. */
export interface ManifoldMatchingLossOptions {
  /** The temperature `τ`, a plain divisor (a number or a scalar tensor, e.g. a variable). Must be > 0. */
  readonly temperature: number | tf.Scalar;
  /** `'negative'` (default): softmax of `−d/τ`; `'positive'`: `+d/τ` (the authors' code). */
  readonly sign?: ManifoldMatchingSign;
}

/**
 * Row-wise Euclidean distances of the L2-normalised rows of `x` `[N,D]`, with squared distances
 * clamped at 1e-4 before the square root (so the diagonal is 0.01 and its gradient finite).
 */
export function pairwiseDistances(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const xn = l2Normalize(x);
    const sq = tf.sum(tf.square(xn), 1, true); // [N,1]
    const gram = tf.matMul(xn, xn, false, true);
    const d2 = tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(gram, 2));
    return tf.sqrt(tf.maximum(d2, SQUARED_DISTANCE_FLOOR)) as tf.Tensor2D;
  });
}

function temperatureTensor(t: number | tf.Scalar): tf.Scalar {
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new NonFiniteError(`temperature must be finite, got ${t}.`);
    if (!(t > 0)) throw new ConfigError(`temperature must be > 0, got ${t}.`);
    return tf.scalar(t);
  }
  if (t === null || t === undefined || typeof (t as { rank?: unknown }).rank !== 'number') {
    throw new ConfigError('temperature must be a number or a scalar tensor.');
  }
  assertRank(t, 0, 'temperature');
  const v = t.dataSync()[0]!;
  if (!Number.isFinite(v)) throw new NonFiniteError(`temperature must be finite, got ${v}.`);
  if (!(v > 0)) throw new ConfigError(`temperature must be > 0, got ${v}.`);
  return t;
}

/**
 * LICO's manifold-matching loss: image embeddings `[N,C]` and text embeddings `[N,D]` are
 * L2-normalised row-wise, their Euclidean distance matrices `d^F`, `d^G` (`[N,N]`) are turned into
 * row distributions `A = softmax_j(sign·d/τ)`, and the loss is `(1/N) Σ_i KL(A^G_i || A^F_i)`: the
 * text side is the target, and gradients flow into both sides and into `τ`. A zero-norm row stays
 * at the origin (distance 1 to every unit row).
 */
export function manifoldMatchingLoss(
  imageEmbeddings: tf.Tensor2D,
  textEmbeddings: tf.Tensor2D,
  options: ManifoldMatchingLossOptions,
): tf.Scalar {
  checkInput(imageEmbeddings, 2, 'imageEmbeddings');
  checkInput(textEmbeddings, 2, 'textEmbeddings');
  checkSameDim(imageEmbeddings, 0, 'imageEmbeddings', textEmbeddings, 0, 'textEmbeddings', 'batch size N');
  if (options === undefined || options === null) throw new ConfigError('manifoldMatchingLoss needs options.temperature.');
  const sign = assertOneOf(options.sign ?? 'negative', MANIFOLD_MATCHING_SIGNS, 'manifold-matching sign');
  return tf.tidy(() => {
    const tau = temperatureTensor(options.temperature);
    const scale = sign === 'negative' ? -1 : 1;
    const logRows = (x: tf.Tensor2D): tf.Tensor2D => tf.logSoftmax(tf.div(tf.mul(pairwiseDistances(x), scale), tau)) as tf.Tensor2D;
    const logF = logRows(imageEmbeddings);
    const logG = logRows(textEmbeddings);
    const kl = tf.sum(tf.mul(tf.exp(logG), tf.sub(logG, logF)));
    return tf.div(kl, imageEmbeddings.shape[0]) as tf.Scalar;
  });
}
