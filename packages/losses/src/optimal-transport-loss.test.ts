import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { NonFiniteError, ShapeError } from '@lico/core';
import { expectClose, expectNoLeaks, gradientCheck, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { SinkhornFailedError } from './marginals';
import { describeOptimalTransportGoldens } from './__golden__/losses-golden-cases';
import { l2Normalize } from './l2-normalize';
import { optimalTransportLoss, optimalTransportLossWithPlan } from './optimal-transport-loss';
import { normalizedSquaredCost } from './normalized-squared-cost';
import { squaredEuclideanCost } from './squared-euclidean-cost';

beforeAll(useCpuBackend);

describe('squaredEuclideanCost', () => {
  it('matches the definition and checks shapes', () => {
    const x = tf.tensor3d([1, 2, 0, -1], [1, 2, 2]);
    const y = tf.tensor3d([0, 0, 3, 1, 1, 1], [1, 3, 2]);
    expectClose(squaredEuclideanCost(x, y), [5, 5, 1, 1, 13, 5]);
    expect(() => squaredEuclideanCost(x, tf.zeros([1, 3, 3]) as tf.Tensor3D)).toThrow(/\[1,2,2\].*\[1,3,3\]/);
    tf.dispose([x, y]);
  });
});

describe('normalizedSquaredCost (the fused cost the loss uses)', () => {
  it('equals squaredEuclideanCost of the normalised points, zero rows included, with the same gradients', () => {
    const x = tf.concat([tf.zeros([2, 1, 4]), tf.randomNormal([2, 3, 4], 0, 3, 'float32', 8)], 1) as tf.Tensor3D;
    const y = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 9) as tf.Tensor3D;
    const w = tf.randomUniform([2, 4, 5], 0, 1, 'float32', 10);
    expectClose(normalizedSquaredCost(x, y, 1e-12), squaredEuclideanCost(l2Normalize(x), l2Normalize(y)), { atol: 2e-6 });
    const viaFused = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(w, normalizedSquaredCost(a as tf.Tensor3D, b as tf.Tensor3D, 1e-12))) as tf.Scalar)([x, y]);
    const viaPlain = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(w, squaredEuclideanCost(l2Normalize(a as tf.Tensor3D), l2Normalize(b as tf.Tensor3D)))) as tf.Scalar)([x, y]);
    expectClose(viaFused[0]!, viaPlain[0]!, { atol: 1e-5, rtol: 1e-4 });
    expectClose(viaFused[1]!, viaPlain[1]!, { atol: 1e-5, rtol: 1e-4 });
    tf.dispose([x, y, w, ...viaFused, ...viaPlain]);
  });
});

describe('optimalTransportLoss: closed forms', () => {
  it('identical one-point clouds (every point the same direction) cost exactly 0', () => {
    const x = tf.tensor3d([1, 2, 3, 2, 4, 6, 0.5, 1, 1.5], [1, 3, 3]);
    const y = tf.tensor3d([3, 6, 9, 1, 2, 3], [1, 2, 3]);
    expectClose(optimalTransportLoss(x, y), 0, { atol: 1e-6 });
    tf.dispose([x, y]);
  });

  it('identical orthonormal clouds: loss = 2(P−1)e^{−2/ε} / (1 + (P−1)e^{−2/ε})', () => {
    const p = 3;
    const eye = tf.reshape(tf.eye(p), [1, p, p]) as tf.Tensor3D;
    for (const epsilon of [1, 0.5, 0.1]) {
      const e = Math.exp(-2 / epsilon);
      const expected = (2 * (p - 1) * e) / (1 + (p - 1) * e);
      expectClose(optimalTransportLoss(eye, eye, { epsilon }), expected, { atol: 1e-6, rtol: 1e-5 });
    }
    eye.dispose();
  });

  it('1x1 problems: loss = mean of 2 − 2 cos, gradient analytic', () => {
    const xs = [
      [1, 0, 0],
      [0.3, -2, 1],
    ];
    const ys = [
      [0, 2, 0],
      [1, 1, 1],
    ];
    const x = tf.tensor3d(xs.flat(), [2, 1, 3]);
    const y = tf.tensor3d(ys.flat(), [2, 1, 3]);
    const norm = (v: number[]): number => Math.hypot(...v);
    const cos = xs.map((v, i) => v.reduce((a, vi, k) => a + vi * ys[i]![k]!, 0) / (norm(v) * norm(ys[i]!)));
    const expected = cos.reduce((a, c) => a + 2 - 2 * c, 0) / 2;
    expectClose(optimalTransportLoss(x, y, { epsilon: 1e-3 }), expected, { atol: 1e-6 });
    // d/dx (−2 cos)/N = −(2/N) (ŷ − cos x̂) / ||x||
    const g = tf.grad((a: tf.Tensor) => optimalTransportLoss(a as tf.Tensor3D, y))(x);
    const expectedGrad = xs.flatMap((v, i) => {
      const xh = v.map((vi) => vi / norm(v));
      const yh = ys[i]!.map((vi) => vi / norm(ys[i]!));
      return xh.map((_, k) => (-(2 / 2) * (yh[k]! - cos[i]! * xh[k]!)) / norm(v));
    });
    expectClose(g, expectedGrad, { atol: 1e-5 });
    tf.dispose([x, y, g]);
  });
});

describeOptimalTransportGoldens('cpu');

describe('optimalTransportLoss: finite-difference gradients', () => {
  const x = () => tf.randomNormal([2, 4, 5], 0, 1, 'float32', 21) as tf.Tensor3D;
  const y = () => tf.randomNormal([2, 3, 5], 0, 1, 'float32', 22) as tf.Tensor3D;

  it('detached plan: the gradient is that of Σ P·C with the plan held fixed', () => {
    const [a, b] = [x(), y()];
    const { plan, loss } = optimalTransportLossWithPlan(a, b);
    const fixed = (u: tf.Tensor, v: tf.Tensor): tf.Scalar =>
      tf.div(tf.sum(tf.mul(plan, squaredEuclideanCost(l2Normalize(u as tf.Tensor3D), l2Normalize(v as tf.Tensor3D)))), 2) as tf.Scalar;
    expect(gradientCheck((u) => fixed(u, b), a, { h: 1e-2 })).toBeLessThan(2e-2);
    expect(gradientCheck((v) => fixed(a, v), b, { h: 1e-2 })).toBeLessThan(2e-2);
    // and the loss's own gradient is exactly that function's gradient
    const [g1, g2] = tf.grads((u: tf.Tensor) => optimalTransportLoss(u as tf.Tensor3D, b))([a]).concat(tf.grads((u: tf.Tensor) => fixed(u, b))([a]));
    expectClose(g1!, g2!, { atol: 1e-6, rtol: 1e-4 });
    tf.dispose([a, b, plan, loss, g1!, g2!]);
  });

  it('differentiable plan: matches finite differences of the whole loss (fixed iteration count)', () => {
    const [a, b] = [x(), y()];
    const options = { differentiablePlan: true, epsilon: 0.5, tolerance: 0, maxIterations: 30 };
    expect(gradientCheck((u) => optimalTransportLoss(u as tf.Tensor3D, b, options), a, { h: 1e-2 })).toBeLessThan(3e-2);
    expect(gradientCheck((v) => optimalTransportLoss(a, v as tf.Tensor3D, options), b, { h: 1e-2 })).toBeLessThan(3e-2);
    tf.dispose([a, b]);
  });
});

describe('optimalTransportLoss: stability and edge cases', () => {
  it('a zero-norm point stays at the origin: its cost to every unit point is 1, loss and gradient finite', () => {
    const x = tf.tensor3d([0, 0, 0, 1, 2, 3], [1, 2, 3]);
    const y = tf.tensor3d([1, 0, 0, 0, 1, 0, 2, 2, 1], [1, 3, 3]);
    const cost = squaredEuclideanCost(l2Normalize(x), l2Normalize(y));
    expectClose(tf.slice(cost, [0, 0, 0], [1, 1, 3]), [1, 1, 1], { atol: 1e-6 });
    const loss = optimalTransportLoss(x, y);
    expect(Number.isFinite(loss.dataSync()[0]!)).toBe(true);
    const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => optimalTransportLoss(a as tf.Tensor3D, b as tf.Tensor3D))([x, y]);
    expect([...gx!.dataSync(), ...gy!.dataSync()].every(Number.isFinite)).toBe(true);
    tf.dispose([x, y, cost, loss, gx!, gy!]);
  });

  it('no NaN/Inf for epsilon down to 1e-3, batch 1, P = 1, Q = 1, large inputs: a finite loss or a SinkhornFailedError, never a wrong value', () => {
    let refused = 0;
    for (const [n, p, q] of [[1, 6, 4], [2, 1, 5], [2, 5, 1], [1, 1, 1]] as const) {
      const x = tf.randomNormal([n, p, 7], 0, 1000, 'float32', 5) as tf.Tensor3D;
      const y = tf.randomNormal([n, q, 7], 0, 1000, 'float32', 6) as tf.Tensor3D;
      for (const epsilon of [1e-3, 1e-2, 0.1]) {
        for (const differentiablePlan of [false, true]) {
          const maxIterations = differentiablePlan ? 20 : 100;
          let grads: tf.Tensor[];
          try {
            grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => optimalTransportLoss(a as tf.Tensor3D, b as tf.Tensor3D, { epsilon, differentiablePlan, maxIterations }))([x, y]);
          } catch (error) {
            expect(error).toBeInstanceOf(SinkhornFailedError);
            expect(epsilon).toBeLessThan(0.1); // the spec's epsilon always converges on unit points
            refused += 1;
            continue;
          }
          const [gx, gy] = grads;
          const loss = optimalTransportLoss(x, y, { epsilon });
          const all = [...loss.dataSync(), ...gx!.dataSync(), ...gy!.dataSync()];
          expect(all.every(Number.isFinite)).toBe(true);
          expect(loss.dataSync()[0]!).toBeGreaterThanOrEqual(0);
          expect(loss.dataSync()[0]!).toBeLessThanOrEqual(4);
          tf.dispose([loss, gx!, gy!]);
        }
      }
      tf.dispose([x, y]);
    }
    expect(refused).toBeLessThan(24);
  });

  it('NaN or Inf in the input is an error naming the argument', () => {
    const good = tf.ones([1, 2, 3]) as tf.Tensor3D;
    const nan = tf.tensor3d([1, 2, Number.NaN, 4, 5, 6], [1, 2, 3]);
    const inf = tf.tensor3d([1, 2, 3, 4, Number.POSITIVE_INFINITY, 6], [1, 2, 3]);
    expect(() => optimalTransportLoss(nan, good)).toThrow(NonFiniteError);
    expect(() => optimalTransportLoss(nan, good)).toThrow(/imagePoints/);
    expect(() => optimalTransportLoss(good, inf)).toThrow(/textPoints/);
    const huge = tf.tensor3d([1e20, 0, 0, 1, 2, 3], [1, 2, 3]);
    expect(() => optimalTransportLoss(huge, good)).toThrow(/overflows float32/);
    huge.dispose();
    tf.dispose([good, nan, inf]);
  });

  it('shape mismatches are errors that print the shapes', () => {
    const x = tf.ones([2, 4, 5]) as tf.Tensor3D;
    const badBatch = tf.ones([3, 2, 5]) as tf.Tensor3D;
    const badDim = tf.ones([2, 2, 6]) as tf.Tensor3D;
    expect(() => optimalTransportLoss(x, badBatch)).toThrow(ShapeError);
    expect(() => optimalTransportLoss(x, badBatch)).toThrow(/\[2,4,5\].*\[3,2,5\]/);
    expect(() => optimalTransportLoss(x, badDim)).toThrow(/\[2,4,5\].*\[2,2,6\]/);
    expect(() => optimalTransportLoss(tf.ones([4, 5]) as unknown as tf.Tensor3D, x)).toThrow(/imagePoints must have rank 3.*\[4,5\]/);
    tf.dispose([x, badBatch, badDim]);
  });

  it('is leak-free, forward and backward, both plan modes', async () => {
    const x = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 1) as tf.Tensor3D;
    const y = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 2) as tf.Tensor3D;
    for (const differentiablePlan of [false, true]) {
      await expectNoLeaks(() => optimalTransportLoss(x, y, { differentiablePlan }));
      await expectNoLeaks(() => optimalTransportLossWithPlan(x, y, { differentiablePlan }));
      await expectNoLeaks(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => optimalTransportLoss(a as tf.Tensor3D, b as tf.Tensor3D, { differentiablePlan }))([x, y]));
    }
    tf.dispose([x, y]);
  });
});
