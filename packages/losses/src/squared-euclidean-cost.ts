import * as tf from '@tensorflow/tfjs-core';
import { assertRank } from '@lico/core';
import { checkSameDim } from './validate';

/**
 * Batched squared Euclidean cost `C[n,a,b] = ||x[n,a] − y[n,b]||²` of `x` `[N,P,D]` and `y`
 * `[N,Q,D]`, computed as `||x||² + ||y||² − 2 x·yᵀ` (one batched matMul) and clamped at 0 against
 * rounding. Differentiable with respect to both inputs.
 */
export function squaredEuclideanCost(x: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor3D {
  assertRank(x, 3, 'x');
  assertRank(y, 3, 'y');
  checkSameDim(x, 0, 'x', y, 0, 'y', 'batch size N');
  checkSameDim(x, 2, 'x', y, 2, 'y', 'point dimension D');
  return tf.tidy(() => {
    const xx = tf.sum(tf.square(x), 2, true); // [N,P,1]
    const yy = tf.reshape(tf.sum(tf.square(y), 2), [y.shape[0], 1, y.shape[1]]); // [N,1,Q]
    const xy = tf.matMul(x, y, false, true); // [N,P,Q]
    return tf.relu(tf.sub(tf.add(xx, yy), tf.mul(xy, 2))) as tf.Tensor3D;
  });
}
