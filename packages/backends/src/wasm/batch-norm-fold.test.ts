import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { BATCH_NORM_FOLD } from '@lico/core';
import { expectNoLeaks } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { seededFloats as random } from './test-parity';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

const fold = (gamma: tf.Tensor, beta: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, epsilon: number) =>
  tf.engine().runKernel(BATCH_NORM_FOLD, { gamma, beta, mean, variance }, { epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor[];

describe('LicoBatchNormFold on wasm', () => {
  it.each([1, 7, 64, 640])('equals the six stock ops it replaces bit for bit (%s channels, ε 1e-3 and 1e-5)', (c) => {
    for (const epsilon of [1e-3, 1e-5]) {
      const gamma = tf.tensor1d(random(c, 1, 0.5, 1));
      const beta = tf.tensor1d(random(c, 2, 1, 0));
      const mean = tf.tensor1d(random(c, 3, 2, 0));
      const variance = tf.tensor1d(random(c, 4, 1.5, 1.5001));
      const [scale, shift] = fold(gamma, beta, mean, variance, epsilon);
      const stockScale = tf.mul(gamma, tf.reciprocal(tf.sqrt(tf.add(variance, epsilon))));
      const stockShift = tf.sub(beta, tf.mul(mean, stockScale));
      expect(Array.from(scale!.dataSync())).toEqual(Array.from(stockScale.dataSync()));
      expect(Array.from(shift!.dataSync())).toEqual(Array.from(stockShift.dataSync()));
      // and the closed form within float32 rounding
      const g = gamma.dataSync(), v = variance.dataSync(), s = scale!.dataSync();
      for (let i = 0; i < c; i++) expect(Math.abs(s[i]! - g[i]! / Math.sqrt(v[i]! + epsilon))).toBeLessThanOrEqual(4e-7 * Math.abs(s[i]!));
      tf.dispose([gamma, beta, mean, variance, scale!, shift!, stockScale, stockShift]);
    }
  });

  it('refuses mismatched shapes, other dtypes and a bad epsilon, naming them; leak-free', async () => {
    const a = tf.tensor1d([1, 2]);
    const b = tf.tensor1d([1, 2, 3]);
    expect(() => fold(a, a, b, a, 1e-3)).toThrow(/one shape; gamma is float32 \[2\], mean float32 \[3\]/);
    const i = tf.tensor1d([1, 2], 'int32');
    expect(() => fold(a, a, a, i, 1e-3)).toThrow(/variance int32 \[2\]/);
    expect(() => fold(a, a, a, a, 0)).toThrow(/epsilon must be a finite number > 0, got 0/);
    await expectNoLeaks(() => tf.dispose(fold(a, a, a, a, 1e-3)));
    tf.dispose([a, b, i]);
  });
});
