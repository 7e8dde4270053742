import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@lico/backends';
import { BATCH_NORM_ACT } from '@lico/core';
import { relativeError, withoutKernel } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_NORM_TEST_NETWORKS, type TestModel } from './test-networks';

// The fused batch norm + activation kernels (wasm, @lico/backends) against the unfused path of
// @lico/backbones (batchNormTraining then leakyRelu / relu), on whole networks: loss and every
// parameter gradient of a training-mode step.

beforeAll(async () => {
  await useBackend('wasm', { log: false });
});


function step(model: TestModel, x: tf.Tensor4D, labels: tf.Tensor1D): { loss: number; grads: (Float32Array | null)[] } {
  const vars = model.trainableVariables();
  const { value, grads } = tf.variableGrads(() => {
    const { logits } = model.forward(x, { training: true });
    return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]!), logits) as tf.Scalar;
  }, vars);
  // A variable the loss does not reach (an unused projection) has no gradient: compared as absent.
  const out = { loss: value.dataSync()[0]!, grads: vars.map((v) => (grads[v.name] ? (grads[v.name]!.dataSync() as Float32Array) : null)) };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/**
 * Per-variable relative differences of two gradient lists; the floor (1e-3 of the network's largest
 * gradient entry) keeps a gradient that is 0 in exact arithmetic (a conv bias before a batch norm)
 * from reading as noise over noise.
 */
function gradientErrors(a: (Float32Array | null)[], e: (Float32Array | null)[]): number[] {
  const largest = Math.max(...e.map((g) => (g ? g.reduce((m, v) => Math.max(m, Math.abs(v)), 0) : 0)));
  return a.map((g, i) => (g ? relativeError(g, e[i]!, 1e-3 * largest) : 0));
}

describe('fused batch norm + activation on wasm equals the unfused path', () => {
  it.each(BATCH_NORM_TEST_NETWORKS)('$name: loss and every gradient agree to float32 rounding; the fused kernel runs', async ({ make, size, channels }) => {
    const model = make();
    const x = tf.randomNormal([8, size, size, channels], 0, 1, 'float32', 11) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const profile = await tf.profile(() => {
      step(model, x, labels);
    });
    expect(profile.kernelNames).toContain(BATCH_NORM_ACT);
    const fused = step(model, x, labels);
    const unfused = withoutKernel(BATCH_NORM_ACT, 'wasm', () => step(model, x, labels));
    expect(Math.abs(fused.loss - unfused.loss) / Math.abs(unfused.loss)).toBeLessThan(1e-5);
    expect(fused.grads.length).toBe(model.trainableVariables().length);
    expect(fused.grads.map((g) => g === null)).toEqual(unfused.grads.map((g) => g === null));
    // How far float32 rounding alone moves these gradients: the unfused path on x·(1 + ε), the
    // largest change over ε = ±1e-6, ±2e-6 (one direction alone can miss a ReLU mask that flips:
    // PreAct-ResNet-18 measured 5e-6 for +1e-6 and 4.8e-2 for −1e-6). With ReLU masks and random
    // weights a gradient can be ill-conditioned (PreAct-ResNet-18: ~1e-2), so the fused path must
    // stay within 3× that floor, and within 1e-4 where the floor is lower.
    const floors: number[] = [];
    for (const eps of [1e-6, -1e-6, 2e-6, -2e-6]) {
      const xp = tf.mul(x, 1 + eps) as tf.Tensor4D;
      const perturbed = withoutKernel(BATCH_NORM_ACT, 'wasm', () => step(model, xp, labels));
      xp.dispose();
      floors.push(Math.max(...gradientErrors(perturbed.grads, unfused.grads)));
    }
    const floor = Math.max(...floors);
    const errors = gradientErrors(fused.grads, unfused.grads);
    const worst = Math.max(...errors);
    console.log(`fused vs unfused: max ${worst.toExponential(2)}; rounding floor (unfused, x·(1 + ε), ε = ±1e-6, ±2e-6): ${floors.map((f) => f.toExponential(2)).join(', ')}`);
    expect(worst).toBeLessThan(Math.max(1e-4, 3 * floor));
    const before = tf.memory().numTensors;
    step(model, x, labels);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, labels]);
    model.dispose();
  }, 600_000); // six steps of ResNet-18 at batch 8 on wasm: ~80 s on a quiet 2-core machine
});
