import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@lico/backends';
import { AFFINE_ACT, AFFINE_ACT_GRAD, CONV_ADD_ACT, CONV_AFFINE_ACT } from '@lico/core';
import { relativeError, withoutKernel } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_NORM_TEST_NETWORKS, type TestModel } from './test-networks';

// The inference-mode batch norm + activation kernel (LicoAffineAct, wasm, @lico/backends) against
// @lico/backbones' path without it (1×1 depthwise map, then leakyRelu / relu, with its own
// backward), on whole networks in inference mode: logits and the input gradient every
// gradient-based saliency method takes. The fused conv epilogues (which take over the batch norms
// right after a conv) are off here: conv-epilogue-inference.test.ts tests them.

beforeAll(async () => {
  await useBackend('wasm', { log: false });
});


/** Runs `fn` with the fused conv epilogue kernels unregistered. */
const withoutConvEpilogues = <T>(fn: () => T): T => withoutKernel(CONV_AFFINE_ACT, 'wasm', () => withoutKernel(CONV_ADD_ACT, 'wasm', fn));

function inference(model: TestModel, x: tf.Tensor4D, w: tf.Tensor2D): { logits: Float32Array; dx: Float32Array } {
  const logits = tf.tidy(() => model.forward(x, { training: false }).logits);
  const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(model.forward(a as tf.Tensor4D, { training: false }).logits, w)))(x);
  const out = { logits: logits.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  tf.dispose([logits, dx]);
  return out;
}

describe('inference batch norm + activation kernel on wasm equals the path without it', () => {
  it.each(BATCH_NORM_TEST_NETWORKS)('$name: logits and input gradient agree to float32 rounding; the kernels run', async ({ make, size, channels }) => {
    const model = make();
    const x = tf.randomNormal([4, size, size, channels], 0, 1, 'float32', 11) as tf.Tensor4D;
    const w = tf.randomNormal([4, 10], 0, 1, 'float32', 12) as tf.Tensor2D;
    const profile = await withoutConvEpilogues(() => tf.profile(() => void inference(model, x, w)));
    expect(profile.kernelNames).toContain(AFFINE_ACT);
    expect(profile.kernelNames).toContain(AFFINE_ACT_GRAD);
    const fused = withoutConvEpilogues(() => inference(model, x, w));
    const plain = withoutConvEpilogues(() => withoutKernel(AFFINE_ACT, 'wasm', () => inference(model, x, w)));
    const plainProfile = await withoutConvEpilogues(() => withoutKernel(AFFINE_ACT, 'wasm', () => tf.profile(() => void inference(model, x, w))));
    expect(plainProfile.kernelNames).not.toContain(AFFINE_ACT);
    expect(plainProfile.kernelNames).toContain('FusedDepthwiseConv2D');
    // The SIMD build (this suite's) computes x·scale + shift with the same two roundings as the 1×1
    // depthwise map and the same masks, so here the two agree exactly; the relaxed build fuses it.
    const logitErr = relativeError(fused.logits, plain.logits);
    const dxErr = relativeError(fused.dx, plain.dx);
    console.log(`LicoAffineAct vs without: logits ${logitErr.toExponential(2)}, input gradient ${dxErr.toExponential(2)}`);
    expect(logitErr).toBeLessThan(1e-5);
    expect(dxErr).toBeLessThan(1e-4);
    const before = tf.memory().numTensors;
    inference(model, x, w);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
    model.dispose();
  }, 300_000);
});
