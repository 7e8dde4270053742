import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';

/** The global L2 norm `sqrt(Σ ||g||²)` of a list of gradients (a scalar tensor). */
export function globalNorm(grads: readonly Tensor[]): Scalar {
  return tf.tidy(() => {
    if (grads.length === 0) return tf.scalar(0);
    return tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as Scalar;
  });
}

/**
 * The factor that clips gradients of global norm `norm` to at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_`: `min(1, maxNorm / (norm + 1e-6))`.
 */
export function clipFactor(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}
