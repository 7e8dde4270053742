import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { ConfigError, NonFiniteError, ShapeError } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossesGolden } from './__golden__/losses-golden';
import { sinkhorn } from './sinkhorn';
import { sinkhornKernel } from './sinkhorn-kernel';
import { MARGINAL_FAILURE, SinkhornFailedError } from './marginals';
import { optimalTransportLoss } from './optimal-transport-loss';

const golden = lossesGolden;

beforeAll(useCpuBackend);

function sums(plan: Float32Array, n: number, p: number, q: number): { rows: number[]; cols: number[] } {
  const rows = new Array(n * p).fill(0);
  const cols = new Array(n * q).fill(0);
  for (let s = 0; s < n; s++)
    for (let a = 0; a < p; a++)
      for (let b = 0; b < q; b++) {
        const v = plan[s * p * q + a * q + b]!;
        rows[s * p + a] += v;
        cols[s * q + b] += v;
      }
  return { rows, cols };
}

function permutations(k: number): number[][] {
  if (k === 1) return [[0]];
  const out: number[][] = [];
  for (const perm of permutations(k - 1))
    for (let i = 0; i <= perm.length; i++) out.push([...perm.slice(0, i), k - 1, ...perm.slice(i)]);
  return out;
}

describe('sinkhorn: closed forms', () => {
  it('1x1 problems: the plan is the whole mass, for any cost', () => {
    const cost = tf.tensor3d([3, 0, 1000], [3, 1, 1]);
    const { plan, iterations } = sinkhorn(cost, { epsilon: 1e-3 });
    expectClose(plan, [1, 1, 1], { atol: 1e-6 });
    expect(iterations).toBe(2); // u jumps to C once, then stops moving
    tf.dispose([cost, plan]);
  });

  it('a constant cost gives the product of the marginals in one step', () => {
    const cost = tf.mul(tf.ones([2, 3, 4]), 0.7) as tf.Tensor3D;
    const { plan, iterations } = sinkhorn(cost);
    expectClose(plan, new Array(24).fill(1 / 12), { atol: 1e-7 });
    expect(iterations).toBe(2);
    tf.dispose([cost, plan]);
  });

  it('as epsilon shrinks the plan approaches the brute-force optimal assignment', () => {
    const k = 5;
    const rng = [0.81, 0.12, 0.55, 0.93, 0.37, 0.26, 0.68, 0.04, 0.49, 0.77, 0.15, 0.99, 0.33, 0.61, 0.08, 0.44, 0.72, 0.21, 0.86, 0.58, 0.02, 0.39, 0.66, 0.9, 0.17];
    let best = Infinity;
    let bestPerm: number[] = [];
    for (const perm of permutations(k)) {
      const c = perm.reduce((acc, b, a) => acc + rng[a * k + b]!, 0);
      if (c < best) {
        best = c;
        bestPerm = perm;
      }
    }
    const exact = new Array(k * k).fill(0);
    bestPerm.forEach((b, a) => (exact[a * k + b] = 1 / k));
    const cost = tf.tensor3d(rng, [1, k, k]);
    let previous = Infinity;
    for (const epsilon of [0.3, 0.1, 0.03, 0.01, 0.001]) {
      const { plan } = sinkhorn(cost, { epsilon, maxIterations: 5000, tolerance: 1e-9 });
      const data = Array.from(plan.dataSync());
      const distance = data.reduce((acc, v, i) => acc + Math.abs(v - exact[i]!), 0);
      expect(distance).toBeLessThan(previous);
      previous = distance;
      plan.dispose();
    }
    expect(previous).toBeLessThan(1e-4);
    cost.dispose();
  });

  it('column sums equal the target weights exactly and row sums converge to the source weights', () => {
    const cost = tf.randomUniform([3, 6, 4], 0, 4, 'float32', 7) as tf.Tensor3D;
    const { plan } = sinkhorn(cost, { tolerance: 1e-7, maxIterations: 1000 });
    const { rows, cols } = sums(plan.dataSync() as Float32Array, 3, 6, 4);
    expectClose(cols, new Array(12).fill(1 / 4), { atol: 1e-6 });
    expectClose(rows, new Array(18).fill(1 / 6), { atol: 1e-5 });
    tf.dispose([cost, plan]);
  });
});

describe('sinkhorn: goldens (PyTorch float64, tools/reference/losses-golden.py)', () => {
  golden.optimalTransport.forEach((c, index) => {
    it(`case ${index}: shape ${c.shape.join('x')}, epsilon ${c.epsilon}`, () => {
      const [n, p, q] = c.shape;
      const cost = tf.tensor3d(c.cost, [n, p, q]);
      const weights =
        c.sourceWeights === undefined
          ? {}
          : { sourceWeights: tf.tensor2d(c.sourceWeights, [n, p]), targetWeights: tf.tensor2d(c.targetWeights!, [n, q]) };
      const options = { epsilon: c.epsilon, maxIterations: c.maxIterations, tolerance: c.tolerance, ...weights };
      const fast = sinkhorn(cost, options);
      expect(fast.iterations).toBe(c.iterations);
      expectClose(fast.plan, c.plan, { atol: 2e-6, rtol: 1e-4 });
      const taped = sinkhorn(cost, { ...options, differentiable: true });
      expect(taped.iterations).toBe(c.iterations);
      expectClose(taped.plan, c.plan, { atol: 1e-5, rtol: 1e-3 });
      tf.dispose([cost, fast.plan, taped.plan, ...Object.values(weights)]);
    });
  });
});

describe('sinkhorn: stability', () => {
  for (const epsilon of [1e-3, 1e-2, 1]) {
    it(`no NaN/Inf and correct marginals at epsilon ${epsilon}, costs up to 1e3, P or Q equal to 1, batch 1`, () => {
      const shapes: [number, number, number][] = [[1, 7, 5], [2, 1, 6], [2, 6, 1], [1, 1, 1]];
      for (const shape of shapes) {
        const cost = tf.randomUniform(shape, 0, 1000, 'float32', 3) as tf.Tensor3D;
        const { plan } = sinkhorn(cost, { epsilon });
        const data = plan.dataSync() as Float32Array;
        expect(data.every(Number.isFinite)).toBe(true);
        const { cols } = sums(data, shape[0], shape[1], shape[2]);
        expectClose(cols, new Array(shape[0] * shape[2]).fill(1 / shape[2]), { atol: 1e-5 });
        const taped = sinkhorn(cost, { epsilon, differentiable: true, maxIterations: 20 });
        expect((taped.plan.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
        tf.dispose([cost, plan, taped.plan]);
      }
    });
  }

  it('the fast path agrees with the max-shifted fallback (kernel vs plain logsumexp)', () => {
    // Same problem at an epsilon where every row needs the fallback, scaled: C/ε is what matters.
    const data = Float32Array.from({ length: 2 * 6 * 5 }, (_, i) => ((i * 37) % 11) / 3);
    const logMu = new Float64Array(12).fill(-Math.log(6));
    const logNu = new Float64Array(10).fill(-Math.log(5));
    const a = sinkhornKernel({ cost: data, n: 2, p: 6, q: 5, logMu, logNu, epsilon: 0.5, maxIterations: 50, tolerance: 0 });
    const scaled = data.map((v) => v * 2000);
    const b = sinkhornKernel({ cost: scaled, n: 2, p: 6, q: 5, logMu, logNu, epsilon: 1000, maxIterations: 50, tolerance: 0 });
    const big = data.map((v) => v * 1e-3);
    const c = sinkhornKernel({ cost: big, n: 2, p: 6, q: 5, logMu, logNu, epsilon: 1e-3 * 0.5, maxIterations: 50, tolerance: 0 });
    expectClose(b.plan, a.plan, { atol: 1e-7, rtol: 1e-5 });
    expectClose(c.plan, a.plan, { atol: 1e-7, rtol: 1e-5 });
  });
});

describe('sinkhorn: errors and leaks', () => {
  it('NaN or Inf in the cost is an error naming it', () => {
    const cost = tf.tensor3d([0, Number.NaN, 1, 2], [1, 2, 2]);
    expect(() => sinkhorn(cost)).toThrow(NonFiniteError);
    expect(() => sinkhorn(cost)).toThrow(/cost/);
    cost.dispose();
  });

  it('bad weights and options are errors that print shapes or values', () => {
    const cost = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    const bad = tf.ones([2, 4]) as tf.Tensor2D;
    expect(() => sinkhorn(cost, { sourceWeights: bad })).toThrow(ShapeError);
    expect(() => sinkhorn(cost, { sourceWeights: bad })).toThrow(/\[2,3\].*\[2,4\]/);
    const zero = tf.tensor2d([0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3], [2, 3]);
    expect(() => sinkhorn(cost, { sourceWeights: zero })).toThrow(ConfigError);
    const heavy = tf.ones([2, 3]) as tf.Tensor2D;
    expect(() => sinkhorn(cost, { sourceWeights: heavy })).toThrow(/same mass/);
    expect(() => sinkhorn(cost, { epsilon: 0 })).toThrow(ConfigError);
    expect(() => sinkhorn(cost, { maxIterations: 1.5 })).toThrow(ConfigError);
    expect(() => sinkhorn(cost, { tolerance: -1 })).toThrow(ConfigError);
    expect(() => sinkhorn(tf.zeros([2, 3]) as unknown as tf.Tensor3D)).toThrow(/rank 3.*\[2,3\]/);
    tf.dispose([cost, bad, zero, heavy]);
  });

  it('is leak-free on both paths', async () => {
    const cost = tf.randomUniform([2, 5, 3], 0, 2, 'float32', 1) as tf.Tensor3D;
    await expectNoLeaks(() => sinkhorn(cost));
    await expectNoLeaks(() => sinkhorn(cost, { differentiable: true }));
    await expectNoLeaks(() => tf.grad((c: tf.Tensor) => tf.sum(tf.mul(sinkhorn(c as tf.Tensor3D, { differentiable: true }).plan, c)))(cost));
    cost.dispose();
  });
});

describe('sinkhorn: a wrong plan is never returned silently', () => {
  const costOf = (scale: number) => tf.mul(tf.randomUniform([2, 5, 4], 0, 4, 'float32', 11), scale) as tf.Tensor3D;
  it('reports its marginal error and convergence on ordinary costs (both modes)', () => {
    const c = costOf(1);
    for (const differentiable of [false, true]) {
      const r = sinkhorn(c, { differentiable, tolerance: 1e-6, maxIterations: 500 });
      expect(r.marginalError).toBeLessThan(1e-4);
      expect(r.converged).toBe(true);
      const early = sinkhorn(c, { differentiable, tolerance: 0, maxIterations: 1, epsilon: 0.01 });
      expect(early.marginalError).toBeGreaterThan(0.01);
      expect(early.converged).toBe(false);
      tf.dispose([r.plan, early.plan]);
    }
    c.dispose();
  });

  it('costs x1e30, or cost/epsilon ~1e5 and beyond: reported as not converged with the marginal error (both modes)', () => {
    for (const differentiable of [false, true]) {
      for (const [scale, epsilon, iters] of [[1e30, 0.1, 100], [1e3, 1e-6, differentiable ? 50 : 1000]] as const) {
        const c = costOf(scale);
        const r = sinkhorn(c, { differentiable, epsilon, maxIterations: iters });
        expect(r.converged).toBe(false);
        expect(r.marginalError).toBeGreaterThan(MARGINAL_FAILURE);
        tf.dispose([c, r.plan]);
      }
    }
  });

  it('the optimal-transport loss refuses such a plan with a SinkhornFailedError naming the scale (both modes)', async () => {
    const x = tf.randomNormal([2, 6, 5], 0, 1, 'float32', 1) as tf.Tensor3D;
    const y = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 2) as tf.Tensor3D;
    for (const differentiablePlan of [false, true]) {
      const before = tf.memory().numTensors;
      let err: unknown;
      try {
        optimalTransportLoss(x, y, { epsilon: 1e-6, differentiablePlan, maxIterations: 30 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SinkhornFailedError);
      expect((err as Error).message).toMatch(/cost\/epsilon up to 4\.00e\+6/);
      expect(tf.memory().numTensors).toBe(before);
      // At the spec's epsilon the same points are fine.
      const ok = optimalTransportLoss(x, y, { differentiablePlan });
      expect(Number.isFinite(ok.dataSync()[0]!)).toBe(true);
      ok.dispose();
    }
    tf.dispose([x, y]);
  });
});
