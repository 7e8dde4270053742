import * as tf from '@tensorflow/tfjs-core';
import { UnknownNameError, type ImageClassifier } from '@lico/core';
import type { CamOptions } from '../common';
import { runGradientCam, weightedSum } from './gradient-cam';

/** Which published form of Grad-CAM++'s α to compute. */
export type GradCamPlusPlusVariant = 'pytorch-grad-cam' | 'official';

/** Options of {@link gradCamPlusPlus}. */
export interface GradCamPlusPlusOptions extends CamOptions {
  /**
   * `'pytorch-grad-cam'` (default): `α = g²/(2g² + ΣA·g³ + 1e-6)`, `α = 0` where `g = 0`, no
   * renormalisation. `'official'` (adityac94's code): denominator 0 → 1 and α renormalised per
   * channel over the positions where `ReLU(g) ≠ 0`.
   */
  readonly variant?: GradCamPlusPlusVariant;
}

const VARIANTS: readonly GradCamPlusPlusVariant[] = ['pytorch-grad-cam', 'official'];

/**
 * Grad-CAM++ (Chattopadhyay et al. 2018, Eq. 19 with the exponential trick, so only powers of the
 * first gradient appear): `w_k = Σ_ij α^k_ij ReLU(g^k_ij)`, `L = ReLU(Σ_k w_k A^k)`, with
 * `α = g² / (2g² + Σ_ab A^k_ab · g³)`.
 */
export function gradCamPlusPlus(model: ImageClassifier, images: tf.Tensor4D, options: GradCamPlusPlusOptions = {}): Promise<tf.Tensor3D> {
  const variant = options.variant ?? 'pytorch-grad-cam';
  if (!VARIANTS.includes(variant)) throw new UnknownNameError('Grad-CAM++ variant', variant, VARIANTS);
  return runGradientCam(model, images, options, (a, g) => {
    const g2 = tf.square(g);
    const g3 = tf.mul(g2, g);
    const sumA = tf.sum(a, [1, 2], true);
    const denominator = tf.add(tf.mul(g2, 2), tf.mul(sumA, g3));
    const positive = tf.relu(g);
    let alpha: tf.Tensor;
    if (variant === 'official') {
      const safe = tf.where(tf.equal(denominator, 0), tf.onesLike(denominator), denominator);
      alpha = tf.div(g2, safe);
      const norm = tf.sum(tf.where(tf.notEqual(positive, 0), alpha, tf.zerosLike(alpha)), [1, 2], true);
      alpha = tf.div(alpha, tf.where(tf.equal(norm, 0), tf.onesLike(norm), norm));
    } else {
      alpha = tf.div(g2, tf.add(denominator, 1e-6));
      alpha = tf.where(tf.notEqual(g, 0), alpha, tf.zerosLike(alpha));
    }
    return weightedSum(a, tf.sum(tf.mul(positive, alpha), [1, 2]) as tf.Tensor2D);
  });
}
