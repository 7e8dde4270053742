/**
 * The golden checks of both losses against `losses.json` (PyTorch float64), framework-free: the
 * vitest tests register them per backend (`losses-golden-cases.ts`) and the browser page
 * (`examples/browser-explain/numerics`) runs the same list in Chromium on WebGL.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkClose, checkNoLeaks, toleranceFor, type NamedCheck, type Tolerance } from '@lico/testing/checks';
import { manifoldMatchingLoss } from '../manifold-matching-loss';
import { optimalTransportLoss, optimalTransportLossWithPlan } from '../optimal-transport-loss';
import type { MmGoldenCase, OtGoldenCase } from './losses-golden';

/**
 * Optimal transport, per backend. cpu and wasm: the loss atol 1e-5 / rtol 1e-5, both gradients
 * atol 2e-5 / rtol 1e-3, the iteration count exactly. WebGL (float32; SwiftShader in the tests):
 * the points' cost, the loss and the gradient's matrix products run in shaders, the Sinkhorn
 * iterations on the CPU (float64) as everywhere; stated loss atol 1e-4 / rtol 1e-4, gradients
 * atol 1e-4 / rtol 1e-3, iterations exactly.
 */
export const OT_TOLERANCES = {
  cpu: { loss: { atol: 1e-5, rtol: 1e-5 }, grad: { atol: 2e-5, rtol: 1e-3 } },
  wasm: { loss: { atol: 1e-5, rtol: 1e-5 }, grad: { atol: 2e-5, rtol: 1e-3 } },
  webgl: { loss: { atol: 1e-4, rtol: 1e-4 }, grad: { atol: 1e-4, rtol: 1e-3 } },
} satisfies Record<string, { loss: Tolerance; grad: Tolerance }>;

/**
 * Manifold matching, per backend. cpu and wasm: the loss atol 1e-6 / rtol 1e-4, the gradients
 * (both embeddings and the temperature) atol 1e-6 / rtol 1e-3. WebGL (float32 shaders: softmax,
 * log and exp by the GPU's own functions): loss atol 1e-5 / rtol 1e-4, gradients atol 1e-5 / rtol 1e-3.
 */
export const MM_TOLERANCES = {
  cpu: { loss: { atol: 1e-6, rtol: 1e-4 }, grad: { atol: 1e-6, rtol: 1e-3 } },
  wasm: { loss: { atol: 1e-6, rtol: 1e-4 }, grad: { atol: 1e-6, rtol: 1e-3 } },
  webgl: { loss: { atol: 1e-5, rtol: 1e-4 }, grad: { atol: 1e-5, rtol: 1e-3 } },
} satisfies Record<string, { loss: Tolerance; grad: Tolerance }>;

/**
 * One check per optimal-transport golden: the iteration count exactly, the loss, both gradients
 * (tolerances: {@link OT_TOLERANCES} of the active backend) and no leaked tensors from the backward
 * pass. Resolves to the max absolute errors.
 */
export function optimalTransportGoldenChecks(cases: readonly OtGoldenCase[]): NamedCheck[] {
  return cases.map((c, index) => ({
    name: `case ${index}: shape ${c.shape.join('x')}, epsilon ${c.epsilon}${c.differentiablePlan ? ', differentiable plan' : ''}: value, iterations and gradients`,
    async run() {
      const tol = toleranceFor(OT_TOLERANCES);
      const [n, p, q, d] = c.shape;
      const x = tf.tensor3d(c.imagePoints, [n, p, d]);
      const y = tf.tensor3d(c.textPoints, [n, q, d]);
      const weights =
        c.sourceWeights === undefined
          ? {}
          : { sourceWeights: tf.tensor2d(c.sourceWeights, [n, p]), targetWeights: tf.tensor2d(c.targetWeights!, [n, q]) };
      const options = { epsilon: c.epsilon, maxIterations: c.maxIterations, tolerance: c.tolerance, differentiablePlan: c.differentiablePlan, ...weights };
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => optimalTransportLoss(a as tf.Tensor3D, b as tf.Tensor3D, options);
      const { loss, plan, iterations } = optimalTransportLossWithPlan(x, y, options);
      const [gx, gy] = tf.grads(f)([x, y]);
      try {
        if (iterations !== c.iterations) throw new Error(`iterations: ${iterations}, expected ${c.iterations}`);
        const measured = {
          loss: (await checkClose(loss, c.loss, tol.loss, 'loss')).maxAbsError,
          gradImagePoints: (await checkClose(gx!, c.gradImagePoints, tol.grad, 'gradImagePoints')).maxAbsError,
          gradTextPoints: (await checkClose(gy!, c.gradTextPoints, tol.grad, 'gradTextPoints')).maxAbsError,
        };
        await checkNoLeaks(() => tf.grads(f)([x, y]));
        return measured;
      } finally {
        tf.dispose([x, y, loss, plan, gx!, gy!, ...Object.values(weights)]);
      }
    },
  }));
}

/**
 * One check per manifold-matching golden: the loss with a tensor and with a plain-number
 * temperature, the gradients with respect to both embeddings and the temperature (tolerances:
 * {@link MM_TOLERANCES} of the active backend) and no leaked tensors from the backward pass.
 * Resolves to the max absolute errors.
 */
export function manifoldMatchingGoldenChecks(cases: readonly MmGoldenCase[]): NamedCheck[] {
  return cases.map((c, index) => ({
    name: `case ${index}: shape ${c.shape.join('x')}, tau ${c.temperature.toFixed(3)}, sign ${c.sign}: value and gradients (including the temperature)`,
    async run() {
      const tol = toleranceFor(MM_TOLERANCES);
      const [n, ci, d] = c.shape;
      const e = tf.tensor2d(c.imageEmbeddings, [n, ci]);
      const t = tf.tensor2d(c.textEmbeddings, [n, d]);
      const tau = tf.scalar(c.temperature);
      const f = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor): tf.Scalar =>
        manifoldMatchingLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: s as tf.Scalar, sign: c.sign });
      const loss = f(e, t, tau);
      const [ge, gt, gtau] = tf.grads(f)([e, t, tau]);
      // a plain-number temperature gives the same value
      const plain = manifoldMatchingLoss(e, t, { temperature: c.temperature, sign: c.sign });
      try {
        const measured = {
          loss: (await checkClose(loss, c.loss, tol.loss, 'loss')).maxAbsError,
          gradImageEmbeddings: (await checkClose(ge!, c.gradImageEmbeddings, tol.grad, 'gradImageEmbeddings')).maxAbsError,
          gradTextEmbeddings: (await checkClose(gt!, c.gradTextEmbeddings, tol.grad, 'gradTextEmbeddings')).maxAbsError,
          gradTemperature: (await checkClose(gtau!, c.gradTemperature, tol.grad, 'gradTemperature')).maxAbsError,
          lossPlainTemperature: (await checkClose(plain, c.loss, tol.loss, 'loss (plain-number temperature)')).maxAbsError,
        };
        await checkNoLeaks(() => tf.grads(f)([e, t, tau]));
        return measured;
      } finally {
        tf.dispose([e, t, tau, loss, plain, ge!, gt!, gtau!]);
      }
    },
  }));
}
