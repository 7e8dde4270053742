import * as tf from '@tensorflow/tfjs-core';
import { assertOneOf, assertRank, ConfigError, NonFiniteError } from '@lico/core';
import { l2Normalize } from './l2-normalize';
import { checkInput, checkSameDim } from './validate';

/** The sign of the distances in the manifold-matching softmax. */
export type ManifoldMatchingSign = 'negative' | 'positive';

/** Valid values of {@link ManifoldMatchingSign}. */
export const MANIFOLD_MATCHING_SIGNS: readonly ManifoldMatchingSign[] = ['negative', 'positive'];

/** How the temperature `τ` scales the distances in the softmax. */
export type TemperatureMode = 'divisor' | 'clip-scale';

/** Valid values of {@link TemperatureMode}. */
export const TEMPERATURE_MODES: readonly TemperatureMode[] = ['divisor', 'clip-scale'];

/** Upper bound of CLIP's logit scale `exp(τ)` (CLIP clamps it at 100). */
export const CLIP_SCALE_MAX = 100;

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
  /**
   * `'divisor'` (default, the spec and the authors' code): logits `sign·d/τ`. `'clip-scale'`: logits
   * `sign·d·exp(τ)` as CLIP scales its logits (with `τ = log(1/0.07)` that is `≈ 14.3·d`), the
   * scale clamped at {@link CLIP_SCALE_MAX} as CLIP does.
   */
  readonly temperatureMode?: TemperatureMode;
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

function temperatureTensor(t: number | tf.Scalar, mode: TemperatureMode): tf.Scalar {
  // A divisor must be > 0; CLIP's log-scale may be any finite number.
  const positive = mode === 'divisor';
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new NonFiniteError(`temperature must be finite, got ${t}.`);
    if (positive && !(t > 0)) throw new ConfigError(`temperature must be > 0, got ${t}.`);
    return tf.scalar(t);
  }
  if (t === null || t === undefined || typeof (t as { rank?: unknown }).rank !== 'number') {
    throw new ConfigError('temperature must be a number or a scalar tensor.');
  }
  assertRank(t, 0, 'temperature');
  const v = t.dataSync()[0]!;
  if (!Number.isFinite(v)) throw new NonFiniteError(`temperature must be finite, got ${v}.`);
  if (positive && !(v > 0)) throw new ConfigError(`temperature must be > 0, got ${v}.`);
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
  const mode = assertOneOf(options.temperatureMode ?? 'divisor', TEMPERATURE_MODES, 'manifold-matching temperature mode');
  return tf.tidy(() => {
    const tau = temperatureTensor(options.temperature, mode);
    const scale = sign === 'negative' ? -1 : 1;
    const factor: tf.Scalar = mode === 'divisor' ? tf.div(scale, tau) : tf.mul(tf.minimum(tf.exp(tau), CLIP_SCALE_MAX), scale);
    const logRows = (x: tf.Tensor2D): tf.Tensor2D => tf.logSoftmax(tf.mul(pairwiseDistances(x), factor)) as tf.Tensor2D;
    const logF = logRows(imageEmbeddings);
    const logG = logRows(textEmbeddings);
    const kl = tf.sum(tf.mul(tf.exp(logG), tf.sub(logG, logF)));
    return tf.div(kl, imageEmbeddings.shape[0]) as tf.Scalar;
  });
}
