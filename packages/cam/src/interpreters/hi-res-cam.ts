import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import type { CamOptions } from '../common';
import { runGradientCam } from './gradient-cam';

/** Options of {@link hiResCam}. */
export type HiResCamOptions = CamOptions;

/**
 * HiResCAM (Draelos & Carin 2020): `L = ReLU(Σ_k g^k ⊙ A^k)`, the gradient multiplied element-wise
 * (not averaged over space first, as Grad-CAM does) with the activation and summed over channels;
 * then upsampled (bilinear, half-pixel) and min–max normalised per image. Matches pytorch-grad-cam's
 * `HiResCAM` (`eigen_smooth=False`). When the gradient is spatially constant (a global-average-pool
 * head right after the layer) it equals Grad-CAM.
 */
export function hiResCam(model: ImageClassifier, images: tf.Tensor4D, options: HiResCamOptions = {}): Promise<tf.Tensor3D> {
  return runGradientCam(model, images, options, (a, g) => tf.sum(tf.mul(g, a), 3) as tf.Tensor3D);
}
