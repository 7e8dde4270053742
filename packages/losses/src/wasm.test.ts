import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@lico/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeManifoldMatchingGoldens, describeOptimalTransportGoldens } from './__golden__/losses-golden-cases';
import { optimalTransportLoss } from './optimal-transport-loss';
import { sinkhorn } from './sinkhorn';
import { SinkhornFailedError } from './marginals';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('on the wasm backend', () => {
  it('runs on wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  describeOptimalTransportGoldens('wasm');
  describeManifoldMatchingGoldens('wasm');

  it('sinkhorn stays finite at epsilon 1e-3 with costs up to 1e3, both paths, zero-norm points', () => {
    const cost = tf.mul(tf.randomUniform([2, 6, 4], 0, 1, 'float32', 9), 1000) as tf.Tensor3D;
    for (const differentiable of [false, true]) {
      const { plan } = sinkhorn(cost, { epsilon: 1e-3, differentiable, maxIterations: 30 });
      expect((plan.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
      plan.dispose();
    }
    const x = tf.concat([tf.zeros([1, 1, 5]), tf.randomNormal([1, 3, 5], 0, 1, 'float32', 1)], 1) as tf.Tensor3D;
    const y = tf.randomNormal([1, 2, 5], 0, 1, 'float32', 2) as tf.Tensor3D;
    // A zero-norm point at a tiny epsilon: finite gradients, or (if the plan is off) a named refusal.
    for (const epsilon of [1e-3, 0.1]) {
      try {
        const [gx] = tf.grads((a: tf.Tensor) => optimalTransportLoss(a as tf.Tensor3D, y, { epsilon }))([x]);
        expect((gx!.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
        gx!.dispose();
      } catch (error) {
        expect(error).toBeInstanceOf(SinkhornFailedError);
        expect(epsilon).toBe(1e-3);
      }
    }
    tf.dispose([cost, x, y]);
  });
});
