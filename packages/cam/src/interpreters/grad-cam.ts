import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import type { CamOptions } from '../common';
import { runGradientCam, weightedSum } from './gradient-cam';

/** Options of {@link gradCam}. */
export type GradCamOptions = CamOptions;

/**
 * Grad-CAM (Selvaraju et al. 2017): `L = ReLU(Σ_k α_k A^k)` with `α_k` the spatial mean of
 * `∂y^c/∂A^k`; then upsampled (bilinear, half-pixel) and min–max normalised per image.
 * Matches pytorch-grad-cam's `GradCAM` with `ClassifierOutputTarget` (logit).
 */
export function gradCam(model: ImageClassifier, images: tf.Tensor4D, options: GradCamOptions = {}): Promise<tf.Tensor3D> {
  return runGradientCam(model, images, options, (a, g) => weightedSum(a, tf.mean(g, [1, 2]) as tf.Tensor2D));
}
