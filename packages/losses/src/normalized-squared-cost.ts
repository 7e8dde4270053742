import * as tf from '@tensorflow/tfjs-core';

/**
 * `squaredEuclideanCost(l2Normalize(x), l2Normalize(y))` without materialising the normalised
 * points: `C[n,a,b] = x̂_a² + ŷ_b² − 2 (x_a·y_b) r_a s_b` with `r = 1/max(‖x‖, 1e-12)` per point
 * (so `x̂² = 1`, or 0 for a zero vector). The only work on the `[N,P,D]` tensors is one square-sum
 * and one batched matMul; everything else is on `[N,P,Q]`, which makes the forward and the
 * backward pass several times cheaper than normalising first. Clamped at 0 against rounding.
 */
export function normalizedSquaredCost(x: tf.Tensor3D, y: tf.Tensor3D, normEpsilon: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, q] = [y.shape[0], y.shape[1]];
    const floor = normEpsilon * normEpsilon;
    const xx = tf.sum(tf.square(x), 2, true); // [N,P,1]
    const yy = tf.reshape(tf.sum(tf.square(y), 2), [n, 1, q]); // [N,1,Q]
    const rx = tf.rsqrt(tf.maximum(xx, floor));
    const ry = tf.rsqrt(tf.maximum(yy, floor));
    const xHat2 = tf.mul(xx, tf.square(rx));
    const yHat2 = tf.mul(yy, tf.square(ry));
    const cross = tf.mul(tf.matMul(x, y, false, true), tf.mul(tf.mul(rx, ry), 2));
    return tf.relu(tf.sub(tf.add(xHat2, yHat2), cross)) as tf.Tensor3D;
  });
}
