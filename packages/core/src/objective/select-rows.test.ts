import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useCpuBackend, withoutKernel } from '@lico/testing';
import '../register-gradients';
import { ShapeError } from '../errors';
import { selectRows } from './select-rows';

await useCpuBackend();

describe('selectRows', () => {
  it('equals tf.gather forward, bit for bit (rank 2 and 3)', () => {
    const x2 = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
    const x3 = tf.randomNormal([4, 2, 5], 0, 1, 'float32', 2);
    const idx = tf.tensor1d([3, 0, 3, 1, 2], 'int32');
    expect(Array.from(selectRows(x2, idx).dataSync())).toEqual(Array.from(tf.gather(x2, idx).dataSync()));
    expect(selectRows(x3, idx).shape).toEqual([5, 2, 5]);
    expect(Array.from(selectRows(x3, idx).dataSync())).toEqual(Array.from(tf.gather(x3, idx).dataSync()));
    tf.dispose([x2, x3, idx]);
  });

  it('has the closed-form gradient: row k collects the upstream rows that picked k (repeats add, unpicked rows 0)', () => {
    const x = tf.zeros([4, 2]);
    const idx = tf.tensor1d([2, 0, 2], 'int32');
    const w = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(selectRows(v, idx), w)))(x);
    expect(g.arraySync()).toEqual([[3, 4], [0, 0], [6, 8], [0, 0]]);
    tf.dispose([x, idx, w, g]);
  });

  it("needs no UnsortedSegmentSum in the backward pass (tf.gather's gradient does)", () => {
    const x = tf.randomNormal([3, 2, 2], 0, 1, 'float32', 3);
    const idx = tf.tensor1d([1, 1, 0, 2], 'int32');
    const w = tf.randomNormal([4, 2, 2], 0, 1, 'float32', 4);
    const reference = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, idx), w)))(x);
    const ours = withoutKernel('UnsortedSegmentSum', 'cpu', () => {
      expect(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, idx), w)))(x)).toThrow(/UnsortedSegmentSum/);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(selectRows(v, idx), w)))(x);
    });
    const a = ours.dataSync();
    const b = reference.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 6);
    tf.dispose([x, idx, w, reference, ours]);
  });

  it('refuses non-int32 or non-1-D indices naming the shapes, and leaks nothing', () => {
    const x = tf.ones([3, 2]);
    const f = tf.tensor1d([0, 1], 'float32');
    const i2 = tf.tensor2d([[0], [1]], [2, 1], 'int32');
    expect(() => selectRows(x, f)).toThrow(ShapeError);
    expect(() => selectRows(x, i2 as unknown as tf.Tensor1D)).toThrow(/indices \[2,1\] \(int32\) must be int32 \[N\]/);
    const idx = tf.tensor1d([0, 2], 'int32');
    const before = tf.memory().numTensors;
    const g = tf.grad((v: tf.Tensor) => tf.sum(selectRows(v, idx)))(x);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, f, i2, idx]);
  });
});

describe('selectRows: indices disposed before the backward pass', () => {
  it('keeps its own copy of the indices (made inside a tidy, as the prompt learner does)', () => {
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 5);
    const g = tf.grad((v: tf.Tensor) => {
      const picked = tf.tidy(() => selectRows(v, tf.tensor1d([2, 2, 0], 'int32')));
      return tf.sum(picked);
    })(x);
    expect(g.arraySync()).toEqual([[1, 1, 1, 1], [0, 0, 0, 0], [2, 2, 2, 2]]);
    tf.dispose([x, g]);
  });
});
