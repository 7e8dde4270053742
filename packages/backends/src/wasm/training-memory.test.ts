import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../use-backend';
import { rand } from './test-parity';

describe('training on wasm: memory over 500 steps', () => {
  it('keeps the tensor count and wasm bytes flat and RSS stable', async () => {
    await useBackend('wasm', { log: false, threads: 1 });
    const w1 = tf.variable(tf.mul(rand([3, 3, 3, 8], 1), 0.3));
    const b1 = tf.variable(tf.zeros([8]));
    const w2 = tf.variable(tf.mul(rand([3, 3, 8, 8], 2), 0.2));
    const w3 = tf.variable(tf.mul(rand([1, 1, 8, 8], 3), 0.3));
    const emb = tf.variable(tf.mul(rand([10, 8], 4), 0.1));
    const fc = tf.variable(tf.mul(rand([8, 5], 5), 0.3));
    const x = rand([4, 9, 9, 3], 6);
    const ids = tf.tensor1d([1, 3, 3, 7], 'int32');
    const labels = tf.oneHot(tf.tensor1d([0, 2, 4, 1], 'int32'), 5);
    const optimizer = tf.train.momentum(0.05, 0.9);
    const loss = () => {
      let h = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w1 as tf.Tensor4D, bias: b1, strides: 1, pad: 'same' });
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.leakyRelu(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-3))), 0.1) as tf.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'same');
      h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 2, 'valid'));
      h = tf.conv2d(h, w3 as tf.Tensor4D, 1, 'same');
      const features = tf.add(tf.mean(h, [1, 2]), tf.gather(emb, ids));
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(features, fc)) as tf.Scalar;
    };
    const counts: number[] = [];
    const bytes: number[] = [];
    const rss: number[] = [];
    const heap: number[] = [];
    const gc = (globalThis as { gc?: () => void }).gc;
    const losses: number[] = [];
    for (let step = 0; step < 500; step++) {
      const value = optimizer.minimize(loss, true)!;
      losses.push(value.dataSync()[0]!);
      value.dispose();
      counts.push(tf.memory().numTensors);
      bytes.push(tf.memory().numBytes);
      if (step === 99 || step === 499) {
        gc?.();
        rss.push(process.memoryUsage().rss);
        heap.push(process.memoryUsage().heapUsed);
      }
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(new Set(bytes.slice(1)).size).toBe(1);
    // V8 grows its old space in steps of ~16 MiB as it warms up (it levels off near 1000 steps), so
    // RSS gets a loose bound; the JS heap after a full GC must not grow.
    expect(gc).toBeTypeOf('function');
    expect(heap[1]! - heap[0]!).toBeLessThan(4 * 2 ** 20);
    expect(rss[1]! - rss[0]!).toBeLessThan(64 * 2 ** 20);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
    optimizer.dispose();
    tf.dispose([w1, b1, w2, w3, emb, fc, x, ids, labels]);
  });
});
