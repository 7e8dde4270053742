import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@lico/backends';
import { CONV_ADD_ACT, CONV_AFFINE_ACT } from '@lico/core';
import { withoutKernel } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_NORM_TEST_NETWORKS, type TestModel } from './test-networks';

// The fused conv epilogue kernels (LicoConvAffineAct, LicoConvAddAct: a conv with the batch norm,
// residual add and activation after it, wasm, @lico/backends) against @lico/backbones' path without
// them, on whole networks in inference mode: logits and the input gradient every gradient-based
// saliency method takes. The kernels apply the same operations to each output in the same order
// as the kernels they replace, so the two agree bit for bit.

beforeAll(async () => {
  await useBackend('wasm', { log: false });
});

/** Logits and the input gradient of Σ logits·w in inference mode, with the tensors left over. */
function inference(model: TestModel, x: tf.Tensor4D, w: tf.Tensor2D): { logits: Float32Array; dx: Float32Array; leaked: number } {
  const before = tf.memory().numTensors;
  const logits = tf.tidy(() => model.forward(x, { training: false }).logits);
  const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(model.forward(a as tf.Tensor4D, { training: false }).logits, w)))(x);
  const out = { logits: logits.dataSync().slice() as Float32Array, dx: dx.dataSync().slice() as Float32Array };
  tf.dispose([logits, dx]);
  return { ...out, leaked: tf.memory().numTensors - before };
}

/** Elements where a and b differ (NaN-aware; ±0 count as equal). */
const differing = (a: Float32Array, b: Float32Array) => a.reduce((n, v, k) => n + (v === b[k] || (Number.isNaN(v) && Number.isNaN(b[k]!)) ? 0 : 1), 0);

describe('the fused conv epilogue kernels on wasm equal the path without them', () => {
  it.each(BATCH_NORM_TEST_NETWORKS)('$name: the same logits and input gradient, bit for bit; the kernels run; no leaks', async ({ name, make, size, channels }) => {
    const model = make();
    for (const [n, v] of Object.entries(model.namedVariables())) {
      // non-trivial running statistics, so that the folded maps are not the identity
      if (n.endsWith('running_var')) v.assign(tf.tidy(() => tf.randomUniform(v.shape, 0.5, 1.5, 'float32', 7)));
      if (n.endsWith('running_mean')) v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.3, 'float32', 8)));
    }
    const x = tf.randomNormal([4, size, size, channels], 0, 1, 'float32', 11) as tf.Tensor4D;
    const w = tf.randomNormal([4, 10], 0, 1, 'float32', 12) as tf.Tensor2D;
    const profile = await tf.profile(() => void inference(model, x, w));
    expect(profile.kernelNames).toContain(CONV_AFFINE_ACT);
    // the post-activation ResNet adds its residual inside LicoConvAffineAct; the pre-activation ones after a conv
    if (!name.startsWith('ResNet')) expect(profile.kernelNames).toContain(CONV_ADD_ACT);
    const fused = inference(model, x, w);
    const plain = withoutKernel(CONV_AFFINE_ACT, 'wasm', () => withoutKernel(CONV_ADD_ACT, 'wasm', () => inference(model, x, w)));
    const plainProfile = await withoutKernel(CONV_AFFINE_ACT, 'wasm', () => withoutKernel(CONV_ADD_ACT, 'wasm', () => tf.profile(() => void inference(model, x, w))));
    expect(plainProfile.kernelNames).not.toContain(CONV_AFFINE_ACT);
    expect(differing(fused.logits, plain.logits)).toBe(0);
    expect(differing(fused.dx, plain.dx)).toBe(0);
    expect([fused.leaked, plain.leaked]).toEqual([0, 0]);
    tf.dispose([x, w]);
    model.dispose();
  }, 300_000);
});
