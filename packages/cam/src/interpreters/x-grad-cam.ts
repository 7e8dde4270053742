import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import type { CamOptions } from '../common';
import { runGradientCam, weightedSum } from './gradient-cam';

/** Options of {@link xGradCam}. */
export type XGradCamOptions = CamOptions;

/**
 * XGrad-CAM (Fu et al. 2020), pytorch-grad-cam's form: `w_k = Σ_ij g^k_ij A^k_ij / (Σ_ab A^k_ab + 1e-7)`,
 * `L = ReLU(Σ_k w_k A^k)`.
 */
export function xGradCam(model: ImageClassifier, images: tf.Tensor4D, options: XGradCamOptions = {}): Promise<tf.Tensor3D> {
  return runGradientCam(model, images, options, (a, g) => {
    const weights = tf.div(tf.sum(tf.mul(g, a), [1, 2]), tf.add(tf.sum(a, [1, 2]), 1e-7));
    return weightedSum(a, weights as tf.Tensor2D);
  });
}
