/**
 * Shared pieces of the input-space attribution methods (vanilla gradient, SmoothGrad, Integrated
 * Gradients, Occlusion): per-row input gradients, scattering per-row results back to their images,
 * channel reduction and the map post-processing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, UnknownNameError, type ImageClassifier, type InterpreterOptions } from '@lico/core';
import { minMaxNormalize, targetScores, type TargetScore } from '../common';

/** How per-channel attributions `[N,H,W,C]` become one map `[N,H,W]`. */
export type ChannelReduction = 'max' | 'sum' | 'mean';

/**
 * What part of a signed attribution map is kept before normalising:
 * `'absolute'` (`|a|`, Captum `visualize_image_attr`'s default `sign="absolute_value"`),
 * `'positive'` (`max(a,0)`, evidence for the target, as the CAMs' ReLU) or `'all'` (signed; min–max
 * then puts 0 wherever the minimum is).
 */
export type AttributionSign = 'absolute' | 'positive' | 'all';

/** Options shared by the input-space attribution interpreters. `layer` is ignored (they explain the input). */
export interface InputAttributionOptions extends InterpreterOptions {
  /** Score whose gradient or change is measured (default `'logit'`, the target logit). */
  readonly score?: TargetScore;
  /** Per-image min–max normalisation to [0,1], `(x−min)/(max−min+1e-7)` (default true). */
  readonly normalize?: boolean;
}

/** The valid {@link ChannelReduction} names. */
export const CHANNEL_REDUCTIONS: readonly ChannelReduction[] = ['max', 'sum', 'mean'];
/** The valid {@link AttributionSign} names. */
export const ATTRIBUTION_SIGNS: readonly AttributionSign[] = ['absolute', 'positive', 'all'];

/** Checks the shared options (`score`). */
export function checkInputAttributionOptions(options: InputAttributionOptions): void {
  if (options.score !== undefined && options.score !== 'logit' && options.score !== 'probability') {
    throw new UnknownNameError('target score', options.score, ['logit', 'probability']);
  }
}

/** Checks a channel-reduction name when given. */
export function checkChannelReduction(value: ChannelReduction | undefined): void {
  if (value !== undefined && !CHANNEL_REDUCTIONS.includes(value)) throw new UnknownNameError('channel reduction', value, CHANNEL_REDUCTIONS);
}

/** Checks an attribution-sign name when given. */
export function checkAttributionSign(value: AttributionSign | undefined): void {
  if (value !== undefined && !ATTRIBUTION_SIGNS.includes(value)) throw new UnknownNameError('attribution sign', value, ATTRIBUTION_SIGNS);
}

/** Checks a finite number option when given (`positive`: must also be > 0). */
export function checkFiniteNumber(value: number | undefined, what: string, positive = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive && value <= 0)) {
    throw new ConfigError(`${what} must be a finite number${positive ? ' > 0' : ''}, got ${String(value)}.`);
  }
}

/**
 * `∂ score_r / ∂ rows_r` for every row of `rows` `[B,H,W,C]` with its own target (inference mode, so
 * rows do not interact and the gradient of the summed scores is each row's own). One forward and one
 * backward pass.
 */
export function inputGradients(model: ImageClassifier, rows: tf.Tensor4D, targets: readonly number[], score: TargetScore = 'logit'): tf.Tensor4D {
  return tf.tidy(() => {
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(targetScores(model.forward(x as tf.Tensor4D, { training: false }).logits, targets, score));
    return tf.grad(f)(rows) as tf.Tensor4D;
  });
}

/** Target scores `[B]` of `rows` (one forward pass, inference mode). */
export function rowScores(model: ImageClassifier, rows: tf.Tensor4D, targets: readonly number[], score: TargetScore = 'logit'): tf.Tensor1D {
  return tf.tidy(() => targetScores(model.forward(rows, { training: false }).logits, targets, score));
}

/**
 * Sums per-row values `[B,...]` into their images `[N,...]` with per-row weights: `out_i = Σ_{r: image(r)=i}
 * weight_r · values_r`, as one matMul (no segment-sum kernel needed).
 */
export function scatterToImages(values: tf.Tensor, imageOfRow: readonly number[], weights: tf.Tensor1D | readonly number[], numImages: number): tf.Tensor {
  return tf.tidy(() => {
    const b = imageOfRow.length;
    const rest = values.shape.slice(1);
    const onehot = new Float32Array(numImages * b);
    imageOfRow.forEach((i, r) => {
      onehot[i * b + r] = 1;
    });
    const w = Array.isArray(weights) ? tf.tensor1d(weights as number[]) : (weights as tf.Tensor1D);
    const s = tf.mul(tf.tensor2d(onehot, [numImages, b]), tf.reshape(w, [1, b])) as tf.Tensor2D;
    const flat = tf.reshape(values, [b, -1]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(s, flat), [numImages, ...rest]);
  });
}

/** Reduces `[N,H,W,C]` over channels. */
export function reduceChannels(attributions: tf.Tensor4D, reduction: ChannelReduction): tf.Tensor3D {
  return tf.tidy(() => {
    if (reduction === 'max') return tf.max(attributions, 3) as tf.Tensor3D;
    if (reduction === 'mean') return tf.mean(attributions, 3) as tf.Tensor3D;
    return tf.sum(attributions, 3) as tf.Tensor3D;
  });
}

/** Keeps the requested part of a signed map, then min–max normalises it unless `normalize` is false. */
export function finishAttributionMap(map: tf.Tensor3D, sign: AttributionSign, normalize: boolean | undefined): tf.Tensor3D {
  return tf.tidy(() => {
    const kept = sign === 'absolute' ? tf.abs(map) : sign === 'positive' ? tf.relu(map) : map;
    return normalize === false ? (tf.clone(kept) as tf.Tensor3D) : minMaxNormalize(kept as tf.Tensor3D);
  });
}
