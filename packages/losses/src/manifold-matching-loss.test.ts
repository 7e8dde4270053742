import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { ConfigError, NonFiniteError, ShapeError, UnknownNameError } from '@lico/core';
import { expectClose, expectNoLeaks, gradientCheck, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeManifoldMatchingGoldens } from './__golden__/losses-golden-cases';
import { DEFAULT_TEMPERATURE, manifoldMatchingLoss, pairwiseDistances, type ManifoldMatchingSign } from './manifold-matching-loss';

beforeAll(useCpuBackend);

describe('pairwiseDistances', () => {
  it('normalises rows, clamps squared distances at 1e-4 (diagonal 0.01)', () => {
    const x = tf.tensor2d([3, 0, 0, 5, -2, 0], [3, 2]);
    expectClose(pairwiseDistances(x), [0.01, Math.SQRT2, 2, Math.SQRT2, 0.01, Math.SQRT2, 2, Math.SQRT2, 0.01], { atol: 1e-6 });
    x.dispose();
  });
});

describe('manifoldMatchingLoss: closed forms', () => {
  it('is 0 when both sides have the same geometry (rows equal up to positive scale), either sign', () => {
    const e = tf.tensor2d([1, 2, 3, -1, 0, 2, 0.5, 0.5, -1, 2, 1, 0], [4, 3]);
    const t = tf.mul(e, tf.tensor2d([2, 0.5, 3, 7], [4, 1])) as tf.Tensor2D;
    for (const sign of ['negative', 'positive'] as const) expectClose(manifoldMatchingLoss(e, t, { temperature: 0.3, sign }), 0, { atol: 1e-6 });
    tf.dispose([e, t]);
  });

  it('batch of 1 gives 0; N = 2 has the two-point closed form', () => {
    const one = tf.tensor2d([1, 2], [1, 2]);
    expectClose(manifoldMatchingLoss(one, one, { temperature: 1 }), 0);
    // N = 2: rows of A are [σ(s·(0.01 − d)/τ), …]; image points orthogonal (d = √2), text points opposite (d = 2).
    const e = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const t = tf.tensor2d([1, 0, -1, 0], [2, 2]);
    const tau = 0.7;
    const row = (d: number): [number, number] => {
      const a = Math.exp(-0.01 / tau);
      const b = Math.exp(-d / tau);
      return [a / (a + b), b / (a + b)];
    };
    const pf = row(Math.SQRT2);
    const pg = row(2);
    const kl = pg[0] * Math.log(pg[0] / pf[0]) + pg[1] * Math.log(pg[1] / pf[1]);
    expectClose(manifoldMatchingLoss(e, t, { temperature: tau }), kl, { atol: 1e-6, rtol: 1e-5 });
    tf.dispose([one, e, t]);
  });
});

describeManifoldMatchingGoldens('cpu');

describe('manifoldMatchingLoss: finite-difference gradients', () => {
  for (const sign of ['negative', 'positive'] as const) {
    it(`with respect to both embeddings and the temperature (${sign})`, () => {
      const e = tf.randomNormal([5, 4], 0, 1, 'float32', 31) as tf.Tensor2D;
      const t = tf.randomNormal([5, 3], 0, 1, 'float32', 32) as tf.Tensor2D;
      const tau = tf.scalar(0.8);
      expect(gradientCheck((a) => manifoldMatchingLoss(a as tf.Tensor2D, t, { temperature: tau, sign }), e, { h: 1e-2 })).toBeLessThan(2e-2);
      expect(gradientCheck((b) => manifoldMatchingLoss(e, b as tf.Tensor2D, { temperature: tau, sign }), t, { h: 1e-2 })).toBeLessThan(2e-2);
      expect(gradientCheck((s) => manifoldMatchingLoss(e, t, { temperature: s as tf.Scalar, sign }), tau, { h: 1e-2 })).toBeLessThan(2e-2);
      tf.dispose([e, t, tau]);
    });
  }

  it('trains a temperature variable (spec init log(1/0.07))', () => {
    const tau = tf.variable(tf.scalar(DEFAULT_TEMPERATURE));
    const e = tf.randomNormal([4, 3], 0, 1, 'float32', 41) as tf.Tensor2D;
    const t = tf.randomNormal([4, 3], 0, 1, 'float32', 42) as tf.Tensor2D;
    const { grads } = tf.variableGrads(() => manifoldMatchingLoss(e, t, { temperature: tau }), [tau]);
    expect(Number.isFinite(grads[tau.name]!.dataSync()[0]!)).toBe(true);
    expect(grads[tau.name]!.dataSync()[0]).not.toBe(0);
    tf.dispose([tau, e, t, grads[tau.name]!]);
  });
});

describe('manifoldMatchingLoss: stability and errors', () => {
  it('a zero-norm row stays at the origin (distance 1 to unit rows); loss and gradients finite', () => {
    const e = tf.tensor2d([0, 0, 0, 1, 2, 3, -1, 0, 1], [3, 3]);
    const t = tf.tensor2d([1, 1, 0, 0, 0, 0, 2, 1, 0], [3, 3]);
    expectClose(tf.slice(pairwiseDistances(e), [0, 0], [1, 3]), [0.01, 1, 1], { atol: 1e-6 });
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => manifoldMatchingLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: 0.05 });
    const loss = f(e, t);
    const [ge, gt] = tf.grads(f)([e, t]);
    expect([...loss.dataSync(), ...ge!.dataSync(), ...gt!.dataSync()].every(Number.isFinite)).toBe(true);
    tf.dispose([e, t, loss, ge!, gt!]);
  });

  it('no NaN/Inf with tiny temperatures, huge inputs, duplicate rows', () => {
    const e = tf.mul(tf.randomNormal([6, 4], 0, 1, 'float32', 3), 1e4) as tf.Tensor2D;
    const t = tf.concat([tf.ones([3, 2]), tf.randomNormal([3, 2], 0, 1, 'float32', 4)]) as tf.Tensor2D;
    for (const temperature of [1e-3, 0.07, 100]) {
      for (const sign of ['negative', 'positive'] as const) {
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => manifoldMatchingLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature, sign });
        const [ge, gt] = tf.grads(f)([e, t]);
        const loss = f(e, t);
        expect([...loss.dataSync(), ...ge!.dataSync(), ...gt!.dataSync()].every(Number.isFinite)).toBe(true);
        expect(loss.dataSync()[0]!).toBeGreaterThanOrEqual(-1e-6);
        tf.dispose([loss, ge!, gt!]);
      }
    }
    tf.dispose([e, t]);
  });

  it('errors: non-finite input names the argument, shapes are printed, bad temperature and sign', () => {
    const e = tf.ones([3, 4]) as tf.Tensor2D;
    const t = tf.ones([3, 2]) as tf.Tensor2D;
    const nan = tf.tensor2d([1, Number.NaN, 0, 1, 0, 0], [3, 2]);
    expect(() => manifoldMatchingLoss(e, nan, { temperature: 1 })).toThrow(NonFiniteError);
    expect(() => manifoldMatchingLoss(e, nan, { temperature: 1 })).toThrow(/textEmbeddings/);
    expect(() => manifoldMatchingLoss(nan, t, { temperature: 1 })).toThrow(/imageEmbeddings/);
    const short = tf.ones([2, 2]) as tf.Tensor2D;
    expect(() => manifoldMatchingLoss(e, short, { temperature: 1 })).toThrow(ShapeError);
    expect(() => manifoldMatchingLoss(e, short, { temperature: 1 })).toThrow(/\[3,4\].*\[2,2\]/);
    expect(() => manifoldMatchingLoss(e, t, { temperature: 0 })).toThrow(ConfigError);
    expect(() => manifoldMatchingLoss(e, t, { temperature: Number.NaN })).toThrow(NonFiniteError);
    const negative = tf.scalar(-1);
    expect(() => manifoldMatchingLoss(e, t, { temperature: negative })).toThrow(ConfigError);
    expect(() => manifoldMatchingLoss(e, t, { temperature: 1, sign: 'minus' as ManifoldMatchingSign })).toThrow(UnknownNameError);
    expect(() => manifoldMatchingLoss(e, t, { temperature: 1, sign: 'minus' as ManifoldMatchingSign })).toThrow(/'negative', 'positive'/);
    tf.dispose([e, t, nan, short, negative]);
  });

  it('is leak-free, forward and backward', async () => {
    const e = tf.randomNormal([4, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const t = tf.randomNormal([4, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    const tau = tf.scalar(0.5);
    await expectNoLeaks(() => manifoldMatchingLoss(e, t, { temperature: 2 }));
    await expectNoLeaks(() => manifoldMatchingLoss(e, t, { temperature: tau, sign: 'positive' }));
    await expectNoLeaks(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, s: tf.Tensor) => manifoldMatchingLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: s as tf.Scalar }))([e, t, tau]),
    );
    tf.dispose([e, t, tau]);
  });
});
