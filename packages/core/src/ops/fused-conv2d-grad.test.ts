import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeaks, gradientCheck, useCpuBackend } from '@lico/testing';
import '../register-gradients';
import { fusedConv2DGradConfig } from './fused-conv2d-grad';

beforeAll(async () => {
  await useCpuBackend();
});

type Attrs = { strides: number; pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]; activation?: 'linear' | 'relu' | 'elu'; dilations?: number };

/** The kernel run directly: the gradient under test is the registered one. */
const direct = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor | undefined, a: Attrs) =>
  tf.engine().runKernel(tf.FusedConv2D, bias ? { x, filter, bias } : { x, filter }, { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dilations: a.dilations ?? 1, activation: a.activation ?? 'linear' } as unknown as tf.NamedAttrMap) as tf.Tensor4D;

/** tfjs's own op, whose `customGrad` backward is the reference. */
const stock = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor | undefined, a: Attrs) =>
  tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: a.strides, pad: a.pad, activation: (a.activation ?? 'linear') as 'linear' | 'relu' });

const cases: [string, Attrs][] = [
  ['3×3 stride 1, symmetric pad 1, linear', { strides: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }],
  ['3×3 stride 2, same, relu', { strides: 2, pad: 'same', activation: 'relu' }],
  ['3×3 stride 1, valid, relu', { strides: 1, pad: 'valid', activation: 'relu' }],
];

describe('fusedConv2DGradConfig (registered on import of @lico/core)', () => {
  it('is the registered gradient of FusedConv2D', () => {
    expect(tf.getGradient(tf.FusedConv2D)).toBe(fusedConv2DGradConfig);
  });

  it.each(cases)('equals the backward of tf.fused.conv2d exactly for x, filter and bias (%s)', (_, a) => {
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 1);
    const filter = tf.randomNormal([3, 3, 3, 4], 0, 0.5, 'float32', 2);
    const bias = tf.randomNormal([4], 0, 0.5, 'float32', 3);
    const w = tf.randomNormal(stock(x, filter, bias, a).shape, 0, 1, 'float32', 4);
    const loss = (f: typeof direct) => (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(f(p, q, r, a), w)) as tf.Scalar;
    const ours = tf.grads(loss(direct))([x, filter, bias]);
    const theirs = tf.grads(loss(stock))([x, filter, bias]);
    expect(ours.map((t) => t.shape)).toEqual([x.shape, filter.shape, bias.shape]);
    for (let k = 0; k < 3; k++) expect(Array.from(ours[k]!.dataSync())).toEqual(Array.from(theirs[k]!.dataSync()));
    tf.dispose([x, filter, bias, w, ...ours, ...theirs]);
  });

  it('matches central finite differences (relu, stride 2)', () => {
    const a: Attrs = { strides: 2, pad: 'same', activation: 'relu' };
    const x = tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 5);
    const filter = tf.randomNormal([3, 3, 2, 3], 0, 0.5, 'float32', 6);
    const bias = tf.tensor1d([0.3, -0.2, 0.1]);
    const w = tf.randomNormal([1, 3, 3, 3], 0, 1, 'float32', 7);
    const f = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(direct(p, q, r, a), w)) as tf.Scalar;
    const inputs = [x, filter, bias];
    for (let k = 0; k < 3; k++) {
      const only = (t: tf.Tensor) => f(...(inputs.map((u, j) => (j === k ? t : u)) as [tf.Tensor, tf.Tensor, tf.Tensor]));
      expect(gradientCheck(only, inputs[k]!, { h: 1e-2 }), `input ${k}`).toBeLessThan(2e-2);
    }
    tf.dispose([x, filter, bias, w]);
  });

  it('computes only the gradient the tape asks for: an input gradient runs one Conv2DBackpropInput, no filter gradient, no bias sum', async () => {
    const a: Attrs = { strides: 1, pad: 'same' };
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 8);
    const filter = tf.randomNormal([3, 3, 2, 2], 0, 0.5, 'float32', 9);
    const bias = tf.tensor1d([0.5, -0.5]);
    const profile = await tf.profile(() => tf.grad((p: tf.Tensor) => tf.sum(direct(p, filter, bias, a)) as tf.Scalar)(x));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'Conv2DBackpropInput')).toHaveLength(1);
    expect(names).not.toContain('Conv2DBackpropFilter');
    expect(names.filter((n) => n === 'Sum')).toHaveLength(1); // the loss's own sum
    tf.dispose([x, filter, bias]);
  });

  it('is leak-free', async () => {
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 10);
    const filter = tf.randomNormal([3, 3, 2, 2], 0, 0.5, 'float32', 11);
    const bias = tf.tensor1d([0.5, -0.5]);
    await expectNoLeaks(() => tf.dispose(tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(direct(p, q, r, { strides: 1, pad: 'same', activation: 'relu' })) as tf.Scalar)([x, filter, bias])));
    tf.dispose([x, filter, bias]);
  });

  it('refuses what it does not support, naming it, when the gradient is asked for', () => {
    const x = tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 12);
    const filter = tf.randomNormal([3, 3, 2, 2], 0, 0.5, 'float32', 13);
    const bias = tf.tensor1d([0.5, -0.5]);
    const grad = (a: Attrs) => () => tf.grad((p: tf.Tensor) => tf.sum(direct(p, filter, bias, a)) as tf.Scalar)(x);
    expect(grad({ strides: 1, pad: 'same', activation: 'elu' })).toThrow(/activation 'elu' is not supported/);
    expect(grad({ strides: 1, pad: 'same', dilations: 2 })).toThrow(/dilations 2 is not supported/);
    // A bias that broadcasts from another shape: the tape names the mismatch.
    const wide = tf.reshape(bias, [1, 1, 1, 2]);
    expect(() => tf.grad((r: tf.Tensor) => tf.sum(direct(x, filter, r, { strides: 1, pad: 'same' })) as tf.Scalar)(wide)).toThrow(/gradient of input 'bias' has shape '2'/);
    tf.dispose([x, filter, bias, wide]);
  });
});
