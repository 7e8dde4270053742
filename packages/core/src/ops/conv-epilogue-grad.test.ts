import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeaks, gradientCheck, registerConvEpilogueReference, useCpuBackend } from '@lico/testing';
import '../register-gradients';
import { LICO_GRADIENT_CONFIGS } from '../register-gradients';
import { CONV_ADD_ACT, CONV_AFFINE_ACT } from './kernel-names';

// The cpu backend has no such kernels: a float64 reference for the forward; the gradients run their stock-op paths.
let unregister: () => void;
beforeAll(async () => {
  await useCpuBackend();
  unregister = registerConvEpilogueReference([CONV_AFFINE_ACT, CONV_ADD_ACT]);
});
afterAll(() => unregister());

const run = (kernel: string, inputs: tf.NamedTensorMap, alpha: number, strides = 1, pad = 1) =>
  tf.engine().runKernel(kernel, inputs, { strides, pad, alpha } as unknown as tf.NamedAttrMap) as tf.Tensor4D;

describe('the gradients of LicoConvAffineAct and LicoConvAddAct (registered on import of @lico/core)', () => {
  it('are registered', () => {
    expect(LICO_GRADIENT_CONFIGS.map((c) => c.kernelName)).toEqual(expect.arrayContaining([CONV_AFFINE_ACT, CONV_ADD_ACT]));
  });

  it('a closed form: a 1×1 conv of one pixel, weight 2, bias 1, scale 3, shift −10, residual 1, slope 0.5', () => {
    // u = 2x + 1; z = 3u − 10 + 1. x = 1: u = 3, z = 0 → y = 0 (the kink: slope side); x = 2: u = 5, z = 6 → y = 6
    const [f, bias, scale, shift] = [tf.tensor4d([2], [1, 1, 1, 1]), tf.tensor1d([1]), tf.tensor1d([3]), tf.tensor1d([-10])];
    const residual = tf.tensor4d([1], [1, 1, 1, 1]);
    const x = tf.tensor4d([2], [1, 1, 1, 1]);
    const names = ['x', 'filter', 'bias', 'scale', 'shift', 'residual'];
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(run(CONV_AFFINE_ACT, Object.fromEntries(names.map((k, i) => [k, a[i]!])), 0.5, 1, 0)))([x, f, bias, scale, shift, residual]);
    // dy = 1, z > 0 → dz = 1: dx = 3·2, dfilter = 3·x, dbias = 3, dscale = u = 5, dshift = 1, dresidual = 1
    expect(grads.map((g) => g.dataSync()[0])).toEqual([6, 6, 3, 5, 1, 1]);
    const addGrads = tf.grads((a: tf.Tensor, w: tf.Tensor, bb: tf.Tensor, r: tf.Tensor) => tf.sum(run(CONV_ADD_ACT, { x: a, filter: w, bias: bb, residual: r }, 0.5, 1, 0)))([tf.neg(x), f, bias, tf.neg(residual)]);
    // x = −2: z = −4 + 1 − 1 = −4 < 0 → dz = 0.5: dx = 0.5·2, dfilter = 0.5·(−2), dbias = 0.5, dresidual = 0.5
    expect(addGrads.map((g) => g.dataSync()[0])).toEqual([1, -1, 0.5, 0.5]);
    tf.dispose([f, bias, scale, shift, residual, x, ...grads, ...addGrads]);
  });

  it.each([
    { alpha: 0.1, strides: 1, residual: true },
    { alpha: 1, strides: 2, residual: false },
    { alpha: 0, strides: 1, residual: false },
  ])('match central finite differences for every input (slope $alpha, stride $strides, residual $residual)', ({ alpha, strides, residual }) => {
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 1);
    const filter = tf.randomNormal([3, 3, 3, 4], 0, 0.5, 'float32', 2);
    const bias = tf.randomNormal([4], 0, 0.5, 'float32', 3);
    const scale = tf.randomUniform([4], 0.5, 1.5, 'float32', 4);
    const shift = tf.randomNormal([4], 0, 0.5, 'float32', 5);
    const ho = strides === 1 ? 5 : 3;
    const r = tf.randomNormal([2, ho, ho, 4], 0, 1, 'float32', 6);
    const w = tf.randomNormal([2, ho, ho, 4], 0, 1, 'float32', 7);
    const all = { x, filter, bias, scale, shift, ...(residual ? { residual: r } : {}) };
    const names = Object.keys(all);
    for (const [kernel, keys] of [
      [CONV_AFFINE_ACT, names],
      [CONV_ADD_ACT, ['x', 'filter', 'bias', 'residual']],
    ] as const) {
      const base: Record<string, tf.Tensor> = { ...all, residual: r };
      for (const name of keys) {
        const f = (v: tf.Tensor) => tf.sum(tf.mul(run(kernel, Object.fromEntries(keys.map((k) => [k, k === name ? v : base[k]!])), alpha, strides), w)) as tf.Scalar;
        // A float32 loss of ~100 terms: the differences carry ~1e-5 of rounding, ~1 % of the smallest
        // gradients at this step (small enough not to cross the activation's kink on these seeds).
        expect(gradientCheck(f, base[name]!, { h: 5e-3, maxChecks: 12 }), `${kernel} ${name}`).toBeLessThan(3e-2);
      }
    }
    tf.dispose([x, filter, bias, scale, shift, r, w]);
  });

  it('an input gradient runs one Conv2DBackpropInput and no filter gradient or per-channel sums', async () => {
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 1);
    const [filter, bias, scale, shift] = [tf.ones([3, 3, 2, 2]), tf.zeros([2]), tf.ones([2]), tf.zeros([2])];
    const f = (a: tf.Tensor) => tf.sum(run(CONV_AFFINE_ACT, { x: a, filter, bias, scale, shift }, 0.1));
    const profile = await tf.profile(() => tf.dispose(tf.grad(f)(x)));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((k) => k === 'Conv2DBackpropInput')).toHaveLength(1);
    expect(names).not.toContain('Conv2DBackpropFilter');
    expect(names.filter((k) => k === 'Sum')).toHaveLength(1); // the loss's own
    tf.dispose([x, filter, bias, scale, shift]);
  });

  it('is leak-free', async () => {
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 1);
    const [filter, bias, scale, shift, residual] = [tf.ones([3, 3, 2, 2]), tf.zeros([2]), tf.ones([2]), tf.zeros([2]), tf.ones([1, 4, 4, 2])];
    await expectNoLeaks(() => {
      tf.dispose(tf.grads((...a: tf.Tensor[]) => tf.sum(run(CONV_AFFINE_ACT, { x: a[0]!, filter: a[1]!, bias: a[2]!, scale: a[3]!, shift: a[4]!, residual: a[5]! }, 0.1)))([x, filter, bias, scale, shift, residual]));
      tf.dispose(tf.grads((...a: tf.Tensor[]) => tf.sum(run(CONV_ADD_ACT, { x: a[0]!, filter: a[1]!, bias: a[2]!, residual: a[3]! }, 0.1)))([x, filter, bias, residual]));
    });
    tf.dispose([x, filter, bias, scale, shift, residual]);
  });
});
