import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@lico/core';
import { expectClose, expectNoLeaks } from '@lico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossesGolden } from './__golden__/losses-golden';
import { manifoldMatchingLoss } from './manifold-matching-loss';
import { optimalTransportLoss, optimalTransportLossWithPlan } from './optimal-transport-loss';
import { sinkhorn } from './sinkhorn';

const golden = lossesGolden;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('on the wasm backend', () => {
  it('runs on wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  golden.optimalTransport.forEach((c, index) => {
    it(`optimal transport golden case ${index}: value, iterations and gradients`, async () => {
      const [n, p, q, d] = c.shape;
      const x = tf.tensor3d(c.imagePoints, [n, p, d]);
      const y = tf.tensor3d(c.textPoints, [n, q, d]);
      const weights =
        c.sourceWeights === undefined
          ? {}
          : { sourceWeights: tf.tensor2d(c.sourceWeights, [n, p]), targetWeights: tf.tensor2d(c.targetWeights!, [n, q]) };
      const options = { epsilon: c.epsilon, maxIterations: c.maxIterations, tolerance: c.tolerance, differentiablePlan: c.differentiablePlan, ...weights };
      const { loss, plan, iterations } = optimalTransportLossWithPlan(x, y, options);
      expect(iterations).toBe(c.iterations);
      expectClose(loss, c.loss, { atol: 1e-5, rtol: 1e-5 });
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => optimalTransportLoss(a as tf.Tensor3D, b as tf.Tensor3D, options);
      const [gx, gy] = tf.grads(f)([x, y]);
      expectClose(gx!, c.gradImagePoints, { atol: 2e-5, rtol: 1e-3 });
      expectClose(gy!, c.gradTextPoints, { atol: 2e-5, rtol: 1e-3 });
      await expectNoLeaks(() => tf.grads(f)([x, y]));
      tf.dispose([x, y, loss, plan, gx!, gy!, ...Object.values(weights)]);
    });
  });

  golden.manifoldMatching.forEach((c, index) => {
    it(`manifold matching golden case ${index}: value and gradients (including the temperature)`, async () => {
      const [n, ci, d] = c.shape;
      const e = tf.tensor2d(c.imageEmbeddings, [n, ci]);
      const t = tf.tensor2d(c.textEmbeddings, [n, d]);
      const tau = tf.scalar(c.temperature);
      const f = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor): tf.Scalar =>
        manifoldMatchingLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: s as tf.Scalar, sign: c.sign });
      const loss = f(e, t, tau);
      expectClose(loss, c.loss, { atol: 1e-6, rtol: 1e-4 });
      const [ge, gt, gtau] = tf.grads(f)([e, t, tau]);
      expectClose(ge!, c.gradImageEmbeddings, { atol: 1e-6, rtol: 1e-3 });
      expectClose(gt!, c.gradTextEmbeddings, { atol: 1e-6, rtol: 1e-3 });
      expectClose(gtau!, c.gradTemperature, { atol: 1e-6, rtol: 1e-3 });
      await expectNoLeaks(() => tf.grads(f)([e, t, tau]));
      tf.dispose([e, t, tau, loss, ge!, gt!, gtau!]);
    });
  });

  it('sinkhorn stays finite at epsilon 1e-3 with costs up to 1e3, both paths, zero-norm points', () => {
    const cost = tf.mul(tf.randomUniform([2, 6, 4], 0, 1, 'float32', 9), 1000) as tf.Tensor3D;
    for (const differentiable of [false, true]) {
      const { plan } = sinkhorn(cost, { epsilon: 1e-3, differentiable, maxIterations: 30 });
      expect((plan.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
      plan.dispose();
    }
    const x = tf.concat([tf.zeros([1, 1, 5]), tf.randomNormal([1, 3, 5], 0, 1, 'float32', 1)], 1) as tf.Tensor3D;
    const y = tf.randomNormal([1, 2, 5], 0, 1, 'float32', 2) as tf.Tensor3D;
    const [gx] = tf.grads((a: tf.Tensor) => optimalTransportLoss(a as tf.Tensor3D, y, { epsilon: 1e-3 }))([x]);
    expect((gx!.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
    tf.dispose([cost, x, y, gx!]);
  });
});
