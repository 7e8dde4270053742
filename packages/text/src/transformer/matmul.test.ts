import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { expectClose, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, it } from 'vitest';
import { frozenLinear2d, matMulAB } from './matmul';
import { quickGelu } from './quick-gelu';

beforeAll(useCpuBackend);

describe('matmuls with transpose-free gradients', () => {
  it('matMulAB has the gradients of tf.matMul (rank 2, 3 and 4)', () => {
    for (const [sa, sb] of [
      [[3, 4], [4, 5]],
      [[2, 3, 4], [2, 4, 5]],
      [[2, 3, 4, 5], [2, 3, 5, 2]],
    ] as const) {
      const a = tf.randomNormal([...sa], 0, 1, 'float32', 1);
      const b = tf.randomNormal([...sb], 0, 1, 'float32', 2);
      const w = tf.randomNormal([...sa.slice(0, -1), sb.at(-1)!], 0, 1, 'float32', 3);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMulAB(x, y), w)))([a, b]);
      const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), w)))([a, b]);
      expectClose(matMulAB(a, b), tf.matMul(a, b), { atol: 1e-6 });
      expectClose(ours[0]!, ref[0]!, { atol: 1e-5 });
      expectClose(ours[1]!, ref[1]!, { atol: 1e-5 });
    }
  });

  it('frozenLinear2d has the input gradient of x @ w + b', () => {
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 4);
    const w = tf.randomNormal([4, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
    const b = tf.randomNormal([6], 0, 1, 'float32', 6) as tf.Tensor1D;
    const c = tf.randomNormal([3, 6], 0, 1, 'float32', 7);
    const wT = tf.transpose(w); // must outlive the gradient computation (captured by the closure)
    const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(frozenLinear2d(v as tf.Tensor2D, w, wT, b), c)))(x);
    const ref = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(v, w), b), c)))(x);
    expectClose(frozenLinear2d(x as tf.Tensor2D, w, wT, b), tf.add(tf.matMul(x, w), b), { atol: 1e-6 });
    expectClose(ours, ref, { atol: 1e-5 });
  });

  it('quickGelu has the value and gradient of x·sigmoid(1.702x)', () => {
    const x = tf.randomNormal([5, 7], 0, 2, 'float32', 8);
    const c = tf.randomNormal([5, 7], 0, 1, 'float32', 9);
    const ref = (v: tf.Tensor) => tf.mul(v, tf.sigmoid(tf.mul(v, 1.702)));
    expectClose(quickGelu(x), ref(x), { atol: 1e-6 });
    expectClose(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(quickGelu(v), c)))(x), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ref(v), c)))(x), { atol: 1e-5 });
  });
});
