import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import type { CamOptions } from '../common';
import { runGradientCam } from './gradient-cam';

/** Options of {@link gradCamElementWise}. */
export type GradCamElementWiseOptions = CamOptions;

/**
 * Grad-CAM element-wise (pytorch-grad-cam's `GradCAMElementWise`): `L = Σ_k ReLU(g^k ⊙ A^k)`, the
 * ReLU taken per channel and position before the channel sum (HiResCAM takes it after); then the
 * shared post-processing (a no-op ReLU, bilinear half-pixel upsampling, per-image min–max).
 */
export function gradCamElementWise(model: ImageClassifier, images: tf.Tensor4D, options: GradCamElementWiseOptions = {}): Promise<tf.Tensor3D> {
  return runGradientCam(model, images, options, (a, g) => tf.sum(tf.relu(tf.mul(g, a)), 3) as tf.Tensor3D);
}
