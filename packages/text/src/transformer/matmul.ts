import * as tf from '@tensorflow/tfjs-core';

/**
 * Matrix products whose backward passes avoid `matMul`'s transpose flags. On the wasm backend
 * (tfjs 4.22) `matMul(a, b, false, true)` is ~10× and `matMul(a, b, true, false)` ~30× slower
 * than a plain product of the same size (measured: 516×2048 · 2048×512 took 2.5 s and 7.4 s
 * against 0.22 s), and tfjs's own matMul gradient uses exactly those flags. Here the gradients
 * are plain products with explicitly transposed operands (a rank-≤4 transpose is cheap).
 */

/** Swaps the last two axes. */
export function swapLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/** `a @ b` for same-rank operands (batch dims equal), differentiable in both. */
export const matMulAB = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy, swapLast(saved[1]!)), tf.matMul(swapLast(saved[0]!), dy)],
  };
}) as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * `x [N,in] @ w [in,out] + bias` with frozen `w`, `bias`: the gradient flows to `x` only, as
 * `dy @ wT` with the pre-transposed `wT [out,in]`. `w`, `wT` and `bias` must outlive the backward
 * pass (they are captured, not saved): pass persistent weights, not temporaries.
 */
export function frozenLinear2d(x: tf.Tensor2D, w: tf.Tensor2D, wT: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const f = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    return {
      value: bias ? tf.add(tf.matMul(input, w), bias) : tf.matMul(input, w),
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wT),
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}
