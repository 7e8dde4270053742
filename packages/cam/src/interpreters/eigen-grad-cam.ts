import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import { checkCamOptions, checkImages, resolveLayer, resolveTargets, type CamOptions } from '../common';
import { activationsAndGradients } from './activations-and-gradients';
import { projectionCam } from './eigen-cam';

/** Options of {@link eigenGradCam}. */
export type EigenGradCamOptions = CamOptions;

/**
 * Eigen-Grad-CAM (pytorch-grad-cam's `EigenGradCAM`): the first principal component of the
 * element-wise product `g ⊙ A` of the target score's gradient and the layer's activation (rows the
 * `h·w` positions, columns the channels, centred per channel; `get_2d_projection`), then ReLU,
 * upsampling and normalisation. The projection's sign is chosen as in {@link eigenCam}: so that it
 * correlates non-negatively with the channel sum of `g ⊙ A` (an SVD's sign is arbitrary). Unlike
 * Eigen-CAM it depends on the target class.
 */
export async function eigenGradCam(model: ImageClassifier, images: tf.Tensor4D, options: EigenGradCamOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkCamOptions(options);
  const layer = resolveLayer(model, options.layer);
  const targets = await resolveTargets(model, images, options.targets);
  const product = tf.tidy(() => {
    const { activation, gradients } = activationsAndGradients(model, images, layer, targets, options.score);
    return tf.mul(gradients, activation) as tf.Tensor4D;
  });
  return projectionCam(product, [images.shape[1], images.shape[2]], options);
}
