import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ImageClassifier } from '@lico/core';
import { checkCamOptions, checkImages, checkPositiveInteger, finishCam, resolveLayer, resolveTargets, targetScores, type CamOptions } from '../common';
import { weightedSum } from './gradient-cam';

/** Options of {@link ablationCam}. */
export interface AblationCamOptions extends CamOptions {
  /**
   * Ablated activations per forward pass from the layer onwards (default 32, pytorch-grad-cam's
   * `batch_size`). The (image, channel) pairs of the whole batch are stacked, so one pass can hold
   * several images' ablations.
   */
  readonly batchSize?: number;
  /**
   * The value an ablated channel is set to: `'auto'` (default, pytorch-grad-cam's `AblationLayer`
   * rule: 0 when the image's smallest activation at the layer is 0, as after a ReLU, else that
   * minimum − 1e7) or a number.
   */
  readonly ablationValue?: number | 'auto';
}

/** pytorch-grad-cam's offset below the minimum activation when the layer's activations are not ≥ 0 with a 0. */
export const ABLATION_OFFSET = 1e7;

/**
 * Ablation-CAM (Desai & Ramaswamy 2020; pytorch-grad-cam's `AblationCAM`): channel `k` of the layer
 * is ablated (set to the ablation value), the rest of the network runs from the layer on, and
 * `w_k = (y − y_k) / y` with `y` the target score (logit by default) and `y_k` the score with
 * channel `k` ablated; map `Σ_k w_k A^k`, then ReLU, upsampling and normalisation. Gradient-free;
 * `C` forwards per image from the layer on, `batchSize` at a time across images and channels.
 * (pytorch-grad-cam's ablation layer lowers its non-zero ablation value by another 1e7 for every
 * later copy in a batch, so its result depends on the batch position there; here every channel
 * gets the same value. With ReLU activations, where the value is 0, the two agree.) A target score
 * of exactly 0 keeps the raw drops `y − y_k` as weights instead of dividing by 0. Note that the
 * division by `y` flips the map's sign when the target logit is negative, as in the reference.
 */
export async function ablationCam(model: ImageClassifier, images: tf.Tensor4D, options: AblationCamOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkCamOptions(options);
  checkPositiveInteger(options.batchSize, 'batchSize');
  const value = options.ablationValue ?? 'auto';
  if (value !== 'auto' && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw new ConfigError(`ablationValue must be 'auto' or a finite number, got ${String(value)}.`);
  }
  const batchSize = options.batchSize ?? 32;
  const layer = resolveLayer(model, options.layer);
  const targets = await resolveTargets(model, images, options.targets);
  const activation = tf.tidy(() => model.forwardTo(images, layer, { training: false }));
  try {
    const [n, , , channels] = activation.shape;
    const [original, minima] = tf.tidy(() => [
      targetScores(model.forwardFrom(activation, layer, { training: false }).logits, targets, options.score),
      tf.min(tf.reshape(activation, [n, -1]), 1),
    ]);
    const y = await original!.data();
    const mins = await minima!.data();
    tf.dispose([original!, minima!]);
    const ablationValues = Array.from(mins as Float32Array, (m) => (value !== 'auto' ? value : m === 0 ? 0 : m - ABLATION_OFFSET));
    const total = n * channels;
    const ablated = new Float32Array(total);
    for (let start = 0; start < total; start += batchSize) {
      const m = Math.min(batchSize, total - start);
      const imageOf = Array.from({ length: m }, (_, j) => Math.floor((start + j) / channels));
      const mask = new Float32Array(m * channels);
      for (let j = 0; j < m; j++) mask[j * channels + ((start + j) % channels)] = 1;
      const scores = tf.tidy(() => {
        const rows = tf.gather(activation, imageOf);
        const hole = tf.reshape(tf.tensor2d(mask, [m, channels]), [m, 1, 1, channels]);
        const fill = tf.mul(hole, tf.reshape(tf.tensor1d(imageOf.map((i) => ablationValues[i]!)), [m, 1, 1, 1]));
        const input = tf.add(tf.mul(rows, tf.sub(1, hole)), fill) as tf.Tensor4D;
        return targetScores(model.forwardFrom(input, layer, { training: false }).logits, imageOf.map((i) => targets[i]!), options.score);
      });
      ablated.set(await scores.data(), start);
      scores.dispose();
    }
    const weights = new Float32Array(total);
    for (let j = 0; j < total; j++) {
      const i = Math.floor(j / channels);
      weights[j] = y[i] === 0 ? -ablated[j]! : (y[i]! - ablated[j]!) / y[i]!;
    }
    return tf.tidy(() => finishCam(weightedSum(activation, tf.tensor2d(weights, [n, channels])), [images.shape[1], images.shape[2]], options));
  } finally {
    activation.dispose();
  }
}
