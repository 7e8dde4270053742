import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeaks, gradientCheck, relativeError, useCpuBackend } from './index';

beforeAll(useCpuBackend);

describe('testing helpers', () => {
  it('expectClose passes within tolerance and fails outside', () => {
    expectClose([1, 2, 3], [1, 2, 3.00001]);
    expect(() => expectClose([1, 2, 3], [1, 2, 3.1])).toThrow(/index 2/);
    expect(() => expectClose([Number.NaN], [1])).toThrow();
  });
  it('relativeError is max abs diff over max abs expected', () => {
    expect(relativeError([1, 2], [1, 4])).toBeCloseTo(0.5, 12);
  });
  it('expectNoLeaks detects a leaked tensor', async () => {
    await expectNoLeaks(() => tf.tidy(() => tf.add(tf.ones([2]), 1)));
    let leaked: tf.Tensor | undefined;
    await expect(expectNoLeaks(() => { leaked = tf.add(tf.ones([2]), 1); return 0; })).rejects.toThrow(/tensor leak/);
    leaked?.dispose();
    tf.disposeVariables();
  });
  it('gradientCheck accepts a right gradient and rejects a wrong one', () => {
    const x = tf.tensor1d([0.3, -0.7, 1.1]);
    expect(gradientCheck((v) => tf.sum(tf.square(v)), x)).toBeLessThan(1e-3);
    const wrong = tf.customGrad((v, _save) => ({ value: tf.sum(tf.square(v as tf.Tensor)), gradFunc: (dy: tf.Tensor) => tf.mul(dy, v as tf.Tensor) }));
    expect(gradientCheck((v) => wrong(v) as tf.Scalar, x)).toBeGreaterThan(0.3);
    x.dispose();
  });
});
