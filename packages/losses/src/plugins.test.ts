import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, UnknownNameError, type AlignmentInputs } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifoldMatchingLoss, type ManifoldMatchingSign } from './manifold-matching-loss';
import { createManifoldMatchingLoss, manifoldMatching } from './manifold-matching-plugin';
import { optimalTransportLoss } from './optimal-transport-loss';
import { createOptimalTransportLoss, optimalTransport } from './optimal-transport-plugin';

beforeAll(useCpuBackend);

function inputs(): AlignmentInputs {
  return {
    imageEmbeddings: tf.randomNormal([4, 6], 0, 1, 'float32', 1) as tf.Tensor2D,
    textEmbeddings: tf.randomNormal([4, 5], 0, 1, 'float32', 2) as tf.Tensor2D,
    imagePoints: tf.randomNormal([4, 6, 9], 0, 1, 'float32', 3) as tf.Tensor3D,
    textPoints: tf.randomNormal([4, 3, 9], 0, 1, 'float32', 4) as tf.Tensor3D,
    labels: tf.tensor1d([0, 1, 2, 1], 'int32'),
    temperature: tf.scalar(Math.log(1 / 0.07)),
  };
}

describe('alignment-loss plugins', () => {
  it('optimal transport: v1 plugin, config records every option, compute = optimalTransportLoss', async () => {
    const x = inputs();
    expect(optimalTransport.specificationVersion).toBe('v1');
    expect(optimalTransport.name).toBe('optimal-transport');
    expect(optimalTransport.config).toEqual({ epsilon: 0.1, maxIterations: 100, tolerance: 1e-3, differentiablePlan: false, gradient: 'detached-plan', implementation: 'auto' });
    const custom = createOptimalTransportLoss({ epsilon: 0.05, maxIterations: 10, tolerance: 0, differentiablePlan: true });
    expect(custom.config).toEqual({ epsilon: 0.05, maxIterations: 10, tolerance: 0, differentiablePlan: true, gradient: 'differentiable-plan', implementation: 'auto' });
    expectClose(optimalTransport.compute(x), optimalTransportLoss(x.imagePoints, x.textPoints));
    expectClose(custom.compute(x), optimalTransportLoss(x.imagePoints, x.textPoints, { epsilon: 0.05, maxIterations: 10, tolerance: 0, differentiablePlan: true }));
    await expectNoLeaks(() => custom.compute(x));
    expect(() => createOptimalTransportLoss({ epsilon: -1 })).toThrow(ConfigError);
    tf.dispose(Object.values(x));
  });

  it('manifold matching: v1 plugin, uses inputs.temperature, sign option validated', async () => {
    const x = inputs();
    expect(manifoldMatching.name).toBe('manifold-matching');
    expect(manifoldMatching.config).toEqual({ sign: 'negative', temperatureMode: 'divisor' });
    const positive = createManifoldMatchingLoss({ sign: 'positive' });
    expect(positive.config).toEqual({ sign: 'positive', temperatureMode: 'divisor' });
    expectClose(manifoldMatching.compute(x), manifoldMatchingLoss(x.imageEmbeddings, x.textEmbeddings, { temperature: x.temperature }));
    expectClose(positive.compute(x), manifoldMatchingLoss(x.imageEmbeddings, x.textEmbeddings, { temperature: x.temperature, sign: 'positive' }));
    await expectNoLeaks(() => positive.compute(x));
    expect(() => createManifoldMatchingLoss({ sign: 'up' as ManifoldMatchingSign })).toThrow(UnknownNameError);
    // gradient reaches the temperature through the plugin
    const g = tf.grad((t: tf.Tensor) => manifoldMatching.compute({ ...x, temperature: t as tf.Scalar }))(x.temperature);
    expect(Math.abs(g.dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([...Object.values(x), g]);
  });

  it("optimal transport gradient 'none': the authors' no_grad — same value, nothing it reads gets a gradient", async () => {
    const x = inputs();
    const none = createOptimalTransportLoss({ gradient: 'none' });
    expect(none.config).toMatchObject({ gradient: 'none', differentiablePlan: false });
    expectClose(none.compute(x), optimalTransportLoss(x.imagePoints, x.textPoints), { atol: 1e-6 });
    // A mapping-net-like weight between a variable and the text points: with 'detached-plan' it gets a
    // gradient; with 'none' the weight is not connected at all (as a torch parameter under no_grad).
    const w = tf.variable(tf.randomNormal([9, 9], 0, 0.3, 'float32', 7), true, 'ot-none-test-w');
    const lossWith = (loss: typeof none) => () =>
      loss.compute({ ...x, textPoints: tf.reshape(tf.matMul(tf.reshape(x.textPoints, [12, 9]), w), [4, 3, 9]) as tf.Tensor3D }) as tf.Scalar;
    const detached = tf.variableGrads(lossWith(optimalTransport), [w]);
    expect(tf.norm(detached.grads['ot-none-test-w']!).dataSync()[0]!).toBeGreaterThan(1e-4);
    expect(() => tf.variableGrads(lossWith(none), [w])).toThrow(/connection|gradient/i);
    // Beside a connected term, the OT term adds exactly nothing to the gradient.
    const withCe = (loss: typeof none) => () => tf.add(tf.sum(tf.square(w)), lossWith(loss)()) as tf.Scalar;
    const g = tf.variableGrads(withCe(none), [w]);
    expectClose(g.grads['ot-none-test-w']!, tf.mul(w, 2), { atol: 1e-6 });
    await expectNoLeaks(() => none.compute(x));
    expect(() => createOptimalTransportLoss({ gradient: 'all' as 'none' })).toThrow(UnknownNameError);
    expect(() => createOptimalTransportLoss({ gradient: 'none', differentiablePlan: true })).toThrow(ConfigError);
    tf.dispose([...Object.values(x), w, detached.value, ...Object.values(detached.grads), g.value, ...Object.values(g.grads)]);
  });

  it("manifold matching 'clip-scale': logits d·exp(τ) = the divisor form at temperature exp(−τ); scale clamped at 100", () => {
    const x = inputs();
    const clip = createManifoldMatchingLoss({ temperatureMode: 'clip-scale' });
    expect(clip.config).toEqual({ sign: 'negative', temperatureMode: 'clip-scale' });
    const tau = Math.log(1 / 0.07);
    expectClose(clip.compute(x), manifoldMatchingLoss(x.imageEmbeddings, x.textEmbeddings, { temperature: 1 / Math.exp(tau) }), { atol: 1e-5 });
    // exp(6) = 403 > 100: the clamp makes it the divisor form at 1/100.
    expectClose(clip.compute({ ...x, temperature: tf.scalar(6) }), manifoldMatchingLoss(x.imageEmbeddings, x.textEmbeddings, { temperature: 0.01 }), { atol: 1e-5 });
    // A log-scale may be <= 0 (scale <= 1): accepted, unlike a divisor.
    expectClose(clip.compute({ ...x, temperature: tf.scalar(0) }), manifoldMatchingLoss(x.imageEmbeddings, x.textEmbeddings, { temperature: 1 }), { atol: 1e-5 });
    expect(() => manifoldMatching.compute({ ...x, temperature: tf.scalar(0) })).toThrow(ConfigError);
    // Finite differences in τ: d/dτ of the clip-scale loss.
    const f = (t: number) => clip.compute({ ...x, temperature: tf.scalar(t) }).dataSync()[0]!;
    const g = tf.grad((t: tf.Tensor) => clip.compute({ ...x, temperature: t as tf.Scalar }))(tf.scalar(tau));
    const h = 1e-2;
    expect(g.dataSync()[0]!).toBeCloseTo((f(tau + h) - f(tau - h)) / (2 * h), 3);
    expect(Math.abs(g.dataSync()[0]!)).toBeGreaterThan(1e-4);
    expect(() => createManifoldMatchingLoss({ temperatureMode: 'times' as 'divisor' })).toThrow(UnknownNameError);
    tf.dispose([...Object.values(x), g]);
  });

  it('inputs the losses cannot treat are named errors: MM features of 1e20, an empty OT batch', () => {
    const big = tf.mul(tf.randomNormal([4, 6], 0, 1, 'float32', 1), 1e20) as tf.Tensor2D;
    const t = tf.randomNormal([4, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    expect(() => manifoldMatchingLoss(big, t, { temperature: 1 })).toThrow(/imageEmbeddings holds .* beyond 1e\+17, its squares overflow float32/);
    const empty = tf.zeros([0, 3, 4]) as tf.Tensor3D;
    const pts = tf.zeros([0, 2, 4]) as tf.Tensor3D;
    for (const differentiablePlan of [false, true]) {
      expect(() => optimalTransportLoss(empty, pts, { differentiablePlan })).toThrow(/needs at least one sample and one point on each side, got imagePoints \[0,3,4\]/);
    }
    tf.dispose([big, t, empty, pts]);
  });
});
