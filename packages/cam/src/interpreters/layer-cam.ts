import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import type { CamOptions } from '../common';
import { runGradientCam } from './gradient-cam';

/** Options of {@link layerCam}. */
export type LayerCamOptions = CamOptions;

/** Layer-CAM (Jiang et al. 2021): `L = ReLU(Σ_k ReLU(g^k) ⊙ A^k)`, element-wise weights. */
export function layerCam(model: ImageClassifier, images: tf.Tensor4D, options: LayerCamOptions = {}): Promise<tf.Tensor3D> {
  return runGradientCam(model, images, options, (a, g) => tf.sum(tf.mul(tf.relu(g), a), 3) as tf.Tensor3D);
}
