import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@lico/core';
import { expectClose, expectNoLeaks, gradientCheck, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import { batchNormActInference, batchNormTraining } from './batch-norm';

beforeAll(useCpuBackend);

const x0 = (): tf.Tensor4D => tf.tidy(() => tf.add(tf.mul(tf.randomNormal([3, 2, 3, 4], 0, 1, 'float32', 7), 1.5), 0.3) as tf.Tensor4D);
const gamma0 = (): tf.Tensor1D => tf.tensor1d([1.2, -0.7, 0.5, 2.0]);
const beta0 = (): tf.Tensor1D => tf.tensor1d([0.1, -0.2, 0.3, 0]);
const weights = (): tf.Tensor4D => tf.randomNormal([3, 2, 3, 4], 0, 1, 'float32', 11) as tf.Tensor4D;

/** Reference with stock ops (autodiff through moments). */
function reference(x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b) as tf.Tensor4D;
}

describe('batchNormTraining', () => {
  test('forward normalises each channel to mean beta and std |gamma| (closed form)', () => {
    const x = x0();
    const y = batchNormTraining(x, gamma0(), beta0(), 1e-3);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    expectClose(mean, [0.1, -0.2, 0.3, 0], { atol: 1e-5 });
    // variance of y = gamma^2 * var/(var+eps)
    const { variance: vx } = tf.moments(x, [0, 1, 2]);
    const v = vx.dataSync();
    expectClose(variance, [1.44, 0.49, 0.25, 4].map((g2, i) => (g2 * v[i]!) / (v[i]! + 1e-3)), { rtol: 1e-4, atol: 1e-6 });
  });

  test('hand-written backward equals autodiff of the stock ops (x, gamma, beta)', () => {
    const x = x0();
    const g = gamma0();
    const b = beta0();
    const w = weights();
    const loss = (f: typeof reference) => (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(tf.square(f(xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D, 1e-3)), w));
    const ours = tf.grads(loss((a, c, d, e) => batchNormTraining(a, c, d, e)))([x, g, b]);
    const ref = tf.grads(loss(reference))([x, g, b]);
    for (let i = 0; i < 3; i++) expectClose(ours[i]!, ref[i]!, { atol: 2e-5, rtol: 1e-4 });
  });

  test('finite differences agree with the backward pass', () => {
    const g = gamma0();
    const b = beta0();
    const w = weights();
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.square(batchNormTraining(x as tf.Tensor4D, g, b, 1e-3)), w));
    expect(gradientCheck(f, x0(), { h: 1e-2, maxChecks: 30 })).toBeLessThan(2e-2);
    const fg = (gi: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.square(batchNormTraining(x0(), gi as tf.Tensor1D, b, 1e-3)), w));
    expect(gradientCheck(fg, g)).toBeLessThan(1e-2);
  });

  test('reports biased batch statistics once and leaks nothing', async () => {
    const x = x0();
    const g = gamma0();
    const b = beta0();
    let calls = 0;
    let mean: number[] = [];
    let variance: number[] = [];
    let count = 0;
    await expectNoLeaks(() => {
      tf.tidy(() => {
        tf.grads((xi: tf.Tensor) =>
          tf.sum(
            batchNormTraining(xi as tf.Tensor4D, g, b, 1e-3, (s) => {
              calls++;
              mean = Array.from(s.mean.dataSync());
              variance = Array.from(s.variance.dataSync());
              count = s.count;
            }),
          ),
        )([x]);
      });
    });
    expect(calls).toBe(1);
    expect(count).toBe(18);
    const m = tf.moments(x, [0, 1, 2]);
    expectClose(mean, m.mean, { atol: 1e-6 });
    expectClose(variance, m.variance, { atol: 1e-6, rtol: 1e-5 });
  });
});

describe('batchNormActInference', () => {
  const mean0 = (): tf.Tensor1D => tf.tensor1d([0.4, -1.1, 0, 2.5]);
  const var0 = (): tf.Tensor1D => tf.tensor1d([0.8, 2.0, 0.05, 1.3]);
  const eps = 1e-3;
  /** The stock ops: `act(batchNorm(x))` with running statistics. */
  const stockInference = (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, m: tf.Tensor1D, v: tf.Tensor1D, slope?: number): tf.Tensor4D => {
    const y = tf.batchNorm4d(x, m, v, b, g, eps);
    return slope === undefined ? y : slope === 0 ? tf.relu(y) : tf.leakyRelu(y, slope);
  };
  /** The folded form the backbones use: scale = γ/√(σ²+ε), shift = β − μ·γ/√(σ²+ε). */
  const ours = (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, m: tf.Tensor1D, v: tf.Tensor1D, slope?: number, hook?: (y: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D => {
    return tf.tidy(() => {
      const sd = tf.sqrt(tf.add(v, eps));
      return batchNormActInference(x, tf.div(g, sd) as tf.Tensor1D, tf.sub(b, tf.div(tf.mul(m, g), sd)) as tf.Tensor1D, slope, hook);
    });
  };

  test('equals the stock batch norm + activation outside and inside a gradient tape, with and without a hook', () => {
    for (const slope of [undefined, 0, 0.1]) {
      const ref = stockInference(x0(), gamma0(), beta0(), mean0(), var0(), slope);
      expectClose(ours(x0(), gamma0(), beta0(), mean0(), var0(), slope), ref, { atol: 1e-5, rtol: 1e-5 });
      expectClose(ours(x0(), gamma0(), beta0(), mean0(), var0(), slope, (y) => y), ref, { atol: 1e-5, rtol: 1e-5 });
      const taped = tf.valueAndGrad((xi: tf.Tensor) => tf.sum(ours(xi as tf.Tensor4D, gamma0(), beta0(), mean0(), var0(), slope)))(x0());
      expect(taped.value.dataSync()[0]).toBeCloseTo(tf.sum(ref).dataSync()[0]!, 4);
    }
  });

  test('the hook sees the output before the activation and the network continues with its result', () => {
    let seen: number[] = [];
    const y = ours(x0(), gamma0(), beta0(), mean0(), var0(), 0, (pre) => {
      seen = Array.from(pre.dataSync());
      return tf.neg(pre);
    });
    expectClose(seen, stockInference(x0(), gamma0(), beta0(), mean0(), var0()), { atol: 1e-5, rtol: 1e-5 });
    expectClose(y, tf.relu(tf.neg(stockInference(x0(), gamma0(), beta0(), mean0(), var0()))), { atol: 1e-5, rtol: 1e-5 });
  });

  test('hand-written backward equals autodiff of the stock ops (x, gamma, beta, mean, variance)', () => {
    const w = weights();
    for (const slope of [undefined, 0.1]) {
      const loss = (f: typeof stockInference) => (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor, mi: tf.Tensor, vi: tf.Tensor) =>
        tf.sum(tf.mul(tf.square(f(xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D, mi as tf.Tensor1D, vi as tf.Tensor1D, slope)), w));
      const args = [x0(), gamma0(), beta0(), mean0(), var0()];
      const got = tf.grads(loss(ours))(args);
      const ref = tf.grads(loss(stockInference))(args);
      for (let i = 0; i < 5; i++) expectClose(got[i]!, ref[i]!, { atol: 5e-5, rtol: 2e-4 });
    }
  });

  test('finite differences agree with the input gradient', () => {
    const w = weights();
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.square(ours(x as tf.Tensor4D, gamma0(), beta0(), mean0(), var0(), 0.1)), w));
    expect(gradientCheck(f, x0(), { h: 1e-2, maxChecks: 30 })).toBeLessThan(2e-2);
  });

  test('leaks nothing (forward, input gradient); mismatched channels and a bad slope are clear errors', async () => {
    const x = x0();
    const args = [gamma0(), beta0(), mean0(), var0()] as const;
    await expectNoLeaks(() => {
      ours(x, ...args, 0.1).dispose();
      tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(ours(xi as tf.Tensor4D, ...args, 0.1)))(x)).dispose();
    });
    expect(() => batchNormActInference(x, tf.ones([3]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D, 0)).toThrow(ShapeError);
    expect(() => batchNormActInference(x, tf.ones([4]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D, -1)).toThrow(ConfigError);
    expect(() => batchNormActInference(x, tf.ones([3]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D, 0)).toThrow(/4 channels \(shape \[3,2,3,4\]\) but scale is \[3\]/);
    expect(() => batchNormActInference(x, tf.ones([4]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D, -1)).toThrow(/slope must be a finite number >= 0/);
  });
});
