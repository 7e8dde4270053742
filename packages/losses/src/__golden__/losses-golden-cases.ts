import * as tf from '@tensorflow/tfjs-core';
import { expectClose, expectNoLeaks } from '@lico/testing';
import { describe, expect, it } from 'vitest';
import { manifoldMatchingLoss } from '../manifold-matching-loss';
import { optimalTransportLoss, optimalTransportLossWithPlan } from '../optimal-transport-loss';
import { lossesGolden } from './losses-golden';

/** A tfjs backend the golden cases run on; the calling test file sets it in `beforeAll`. */
export type GoldenBackend = 'cpu' | 'wasm';

/**
 * Registers one vitest case per optimal-transport golden of `losses.json` (PyTorch float64): the
 * iteration count exactly, the loss (atol 1e-5, rtol 1e-5), both gradients (atol 2e-5, rtol 1e-3),
 * and no leaked tensors from the backward pass; each case first checks that `backend` is active.
 */
export function describeOptimalTransportGoldens(backend: GoldenBackend): void {
  describe(`optimalTransportLoss: goldens (PyTorch float64) on ${backend}`, () => {
    lossesGolden.optimalTransport.forEach((c, index) => {
      it(`case ${index}: shape ${c.shape.join('x')}, epsilon ${c.epsilon}${c.differentiablePlan ? ', differentiable plan' : ''}: value, iterations and gradients`, async () => {
        expect(tf.getBackend()).toBe(backend);
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
  });
}

/**
 * Registers one vitest case per manifold-matching golden of `losses.json` (PyTorch float64): the
 * loss with a tensor and with a plain-number temperature (atol 1e-6, rtol 1e-4), the gradients
 * with respect to both embeddings and the temperature (atol 1e-6, rtol 1e-3), and no leaked
 * tensors from the backward pass; each case first checks that `backend` is active.
 */
export function describeManifoldMatchingGoldens(backend: GoldenBackend): void {
  describe(`manifoldMatchingLoss: goldens (PyTorch float64) on ${backend}`, () => {
    lossesGolden.manifoldMatching.forEach((c, index) => {
      it(`case ${index}: shape ${c.shape.join('x')}, tau ${c.temperature.toFixed(3)}, sign ${c.sign}: value and gradients (including the temperature)`, async () => {
        expect(tf.getBackend()).toBe(backend);
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
        // a plain-number temperature gives the same value
        const plain = manifoldMatchingLoss(e, t, { temperature: c.temperature, sign: c.sign });
        expectClose(plain, c.loss, { atol: 1e-6, rtol: 1e-4 });
        await expectNoLeaks(() => tf.grads(f)([e, t, tau]));
        tf.dispose([e, t, tau, loss, plain, ge!, gt!, gtau!]);
      });
    });
  });
}
