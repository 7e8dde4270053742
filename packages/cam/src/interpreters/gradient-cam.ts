import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import { checkCamOptions, checkImages, finishCam, resolveLayer, resolveTargets, type CamOptions } from '../common';
import { activationsAndGradients } from './activations-and-gradients';

/** Turns an activation `A` and gradient `g` (both `[N,h,w,c]`) into a raw map `[N,h,w]`. */
export type GradientCamFormula = (activation: tf.Tensor4D, gradients: tf.Tensor4D) => tf.Tensor3D;

/** Sums `w_k · A^k` over channels for per-image channel weights `[N,c]`. */
export function weightedSum(activation: tf.Tensor4D, weights: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, , , c] = activation.shape;
    return tf.sum(tf.mul(activation, tf.reshape(weights, [n, 1, 1, c])), 3) as tf.Tensor3D;
  });
}

/** The shared driver of the gradient-based CAMs (validate, gradients, formula, post-processing). */
export async function runGradientCam(
  model: ImageClassifier,
  images: tf.Tensor4D,
  options: CamOptions,
  formula: GradientCamFormula,
): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkCamOptions(options);
  const layer = resolveLayer(model, options.layer);
  const targets = await resolveTargets(model, images, options.targets);
  return tf.tidy(() => {
    const { activation, gradients } = activationsAndGradients(model, images, layer, targets, options.score);
    const cam = formula(activation, gradients);
    return finishCam(cam, [images.shape[1], images.shape[2]], options);
  });
}
