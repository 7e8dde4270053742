import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { selectWasmConvAlgorithm } from './conv-grad-kernels';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { rand } from './test-parity';
import { clearWinogradFilterCache, winogradFilterCacheStats } from './winograd-filter-cache';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});
beforeEach(() => clearWinogradFilterCache());
afterAll(() => {
  selectWasmConvAlgorithm('winograd-4x4');
  clearWinogradFilterCache();
});

const conv = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
const inputGrad = (x: tf.Tensor, w: tf.Tensor) => tf.grad((a: tf.Tensor) => tf.sum(tf.square(conv(a, w))))(x);
const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe('the Winograd filter transforms kept for filters used more than once (wasm)', () => {
  it('keeps a forward transform from the second use on; every call gives the same bits', () => {
    const x = rand([2, 8, 8, 16], 1);
    const w = rand([3, 3, 16, 24], 2);
    const first = values(conv(x, w));
    expect(winogradFilterCacheStats()?.entries ?? 0).toBe(0); // first use: transformed into scratch
    const second = values(conv(x, w));
    // F(4×4): 36 positions × 16 input channels × 24 output channels, float32
    expect(winogradFilterCacheStats()).toEqual({ entries: 1, bytes: 36 * 16 * 24 * 4 });
    const third = values(conv(x, w));
    expect(winogradFilterCacheStats()?.entries).toBe(1);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    tf.dispose([x, w]);
  });

  it('keeps the input-gradient form apart; gradients are the same bits with and without it', () => {
    const x = rand([2, 8, 8, 16], 3);
    const w = rand([3, 3, 16, 20], 4);
    const first = values(inputGrad(x, w));
    const second = values(inputGrad(x, w)); // forward and input forms both kept now
    expect(winogradFilterCacheStats()).toEqual({ entries: 2, bytes: 2 * 36 * 16 * 20 * 4 });
    expect(values(inputGrad(x, w))).toEqual(first);
    expect(second).toEqual(first);
    tf.dispose([x, w]);
  });

  it('keeps nothing for filters used once each (a training loop), nor for the direct sums', () => {
    const x = rand([2, 8, 8, 16], 5);
    for (let i = 0; i < 3; i++) {
      const w = rand([3, 3, 16, 16], 10 + i);
      tf.dispose(inputGrad(x, w));
      w.dispose();
    }
    expect(winogradFilterCacheStats()?.entries ?? 0).toBe(0);
    selectWasmConvAlgorithm('direct');
    const w = rand([3, 3, 16, 16], 20);
    for (let i = 0; i < 3; i++) tf.dispose(conv(x, w));
    expect(winogradFilterCacheStats()?.entries ?? 0).toBe(0);
    selectWasmConvAlgorithm('winograd-4x4');
    tf.dispose([x, w]);
  });

  it('drops a kept transform of the other Winograd form when the algorithm changes: each gives its own uncached bits', () => {
    const x = rand([2, 8, 8, 16], 30);
    const w = rand([3, 3, 16, 16], 31);
    const f4 = [values(conv(x, w)), values(conv(x, w))]; // F(4×4), kept from the second call
    expect(winogradFilterCacheStats()).toEqual({ entries: 1, bytes: 36 * 16 * 16 * 4 });
    selectWasmConvAlgorithm('winograd');
    const f2 = values(conv(x, w)); // F(2×2): the kept F(4×4) transform is dropped, its own kept
    expect(winogradFilterCacheStats()).toEqual({ entries: 1, bytes: 16 * 16 * 16 * 4 });
    expect(values(conv(x, w))).toEqual(f2);
    selectWasmConvAlgorithm('direct');
    const direct = values(conv(x, w));
    selectWasmConvAlgorithm('winograd-4x4');
    expect(values(conv(x, w))).toEqual(f4[0]);
    expect(f4[1]).toEqual(f4[0]);
    expect(f2).not.toEqual(f4[0]); // other roundings of the same conv
    for (const v of [f2, f4[0]!]) for (let k = 0; k < v.length; k++) expect(Math.abs(v[k]! - direct[k]!)).toBeLessThan(1e-4 * (1 + Math.abs(direct[k]!)));
    tf.dispose([x, w]);
  });

  it('frees the transform of a disposed filter at the next insertion, and everything on clear', () => {
    const x = rand([1, 6, 6, 16], 6);
    const dataIds = tf.backend().numDataIds();
    const a = rand([3, 3, 16, 16], 7);
    for (let i = 0; i < 2; i++) tf.dispose(conv(x, a));
    expect(winogradFilterCacheStats()?.entries).toBe(1);
    a.dispose();
    const b = rand([3, 3, 16, 16], 8);
    for (let i = 0; i < 2; i++) tf.dispose(conv(x, b));
    expect(winogradFilterCacheStats()?.entries).toBe(1); // a's swept, b's kept
    clearWinogradFilterCache();
    expect(winogradFilterCacheStats()).toEqual({ entries: 0, bytes: 0 });
    b.dispose();
    expect(tf.backend().numDataIds()).toBe(dataIds);
    x.dispose();
  });
});
