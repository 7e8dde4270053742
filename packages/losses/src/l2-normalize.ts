import * as tf from '@tensorflow/tfjs-core';

/**
 * Floor of the norm in {@link l2Normalize}, as in PyTorch's `F.normalize` (`eps = 1e-12`).
 */
export const NORM_EPSILON = 1e-12;

/**
 * Divides `x` by its L2 norm along the last axis, `x / max(||x||, 1e-12)` (PyTorch's
 * `F.normalize`). A zero-norm vector stays exactly zero and its gradient stays finite (the
 * upstream gradient times 1e12): the floor is applied to the squared norm, so no `sqrt(0)` is
 * ever differentiated.
 */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const squared = tf.sum(tf.square(x), -1, true);
    return tf.mul(x, tf.rsqrt(tf.maximum(squared, NORM_EPSILON * NORM_EPSILON))) as T;
  });
}
