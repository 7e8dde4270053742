import * as tf from '@tensorflow/tfjs-core';

/**
 * Quick-GELU `x·σ(1.702x)` with a custom gradient that saves only `x` (autodiff would keep three
 * `[N,4E]` intermediates per block, the largest activations of the whole pass).
 */
export const quickGelu = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const v = saved[0]!;
      const s = tf.sigmoid(tf.mul(v, 1.702));
      // d/dx x·σ(ax) = σ(ax) + a·x·σ(ax)·(1 − σ(ax))
      return tf.mul(dy, tf.add(s, tf.mul(tf.mul(tf.mul(v, 1.702), s), tf.sub(1, s))));
    },
  };
}) as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

