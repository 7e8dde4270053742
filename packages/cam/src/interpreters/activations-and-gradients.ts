import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import { targetScores, type TargetScore } from '../common';

/** A layer's activation and the gradient of each image's target score with respect to it. */
export interface ActivationsAndGradients {
  /** Activation `[N,h,w,c]` of the layer. */
  readonly activation: tf.Tensor4D;
  /** `∂ score_n / ∂ activation_n`, `[N,h,w,c]`. */
  readonly gradients: tf.Tensor4D;
}

/**
 * Runs the model to `layer` and differentiates the sum of the per-image target scores with respect
 * to that activation (inference mode, so the images do not interact and each image's gradient is
 * its own). The caller disposes both tensors.
 */
export function activationsAndGradients(
  model: ImageClassifier,
  images: tf.Tensor4D,
  layer: string,
  targets: readonly number[],
  score: TargetScore = 'logit',
): ActivationsAndGradients {
  return tf.tidy(() => {
    const activation = model.forwardTo(images, layer, { training: false });
    const f = (a: tf.Tensor): tf.Scalar => tf.sum(targetScores(model.forwardFrom(a as tf.Tensor4D, layer, { training: false }).logits, targets, score));
    const gradients = tf.grad(f)(activation) as tf.Tensor4D;
    return { activation, gradients };
  });
}
