import * as tf from '@tensorflow/tfjs-core';
import { selectRows } from '@lico/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeaks, relativeError } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { onCpuAndWasm, rand } from './test-parity';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe('MaxPoolGrad on wasm matches the cpu backend', () => {
  const cases: { b: number; h: number; c: number; k: number; s: number; pad: 'same' | 'valid' }[] = [];
  for (const b of [1, 3]) for (const h of [5, 8]) for (const [k, s] of [[2, 2], [3, 2], [3, 1]] as const) for (const pad of ['same', 'valid'] as const) cases.push({ b, h, c: b === 1 ? 1 : 4, k, s, pad });
  it.each(cases)('x[$b,$h,$h,$c] k=$k s=$s $pad', async ({ b, h, c, k, s, pad }) => {
    const { cpu, wasm } = await onCpuAndWasm(() => {
      const x = rand([b, h, h + 1, c], 11);
      const dy = rand(tf.maxPool(x as tf.Tensor4D, k, s, pad).shape, 12);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), dy)))(x)];
    });
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-6);
  });

  it('routes the gradient to the first maximum on ties (closed form)', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d([1, 3, 3, 0, 2, 2, 2, 2], [2, 2, 2, 1]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([5, 7], [2, 1, 1, 1]))))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 5, 0, 0, 7, 0, 0, 0]);
    tf.dispose([x, g]);
  });
});

describe('avg pooling and global pooling gradients on wasm match the cpu backend', () => {
  it.each([
    { k: 3, s: 2, pad: 'same' as const },
    { k: 2, s: 2, pad: 'valid' as const },
    { k: 3, s: 1, pad: 'same' as const },
  ])('avgPool k=$k s=$s $pad', async ({ k, s, pad }) => {
    const { cpu, wasm } = await onCpuAndWasm(() => {
      const x = rand([3, 7, 6, 4], 13);
      const dy = rand(tf.avgPool(x as tf.Tensor4D, k, s, pad).shape, 14);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, k, s, pad), dy)))(x)];
    });
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
  });

  it('global average pooling (mean over H, W)', async () => {
    const { cpu, wasm } = await onCpuAndWasm(() => {
      const x = rand([3, 5, 6, 4], 15);
      const dy = rand([3, 4], 16);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mean(a, [1, 2]), dy)))(x)];
    });
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
  });
});

describe('UnsortedSegmentSum (gradient of gather) on wasm', () => {
  it.each([
    { shape: [7, 5], ids: [[0, 2, 2, 6, 1]], axis: 0 },
    { shape: [6, 4], ids: [[0, 2], [2, 5], [5, 5]], axis: 0 },
    { shape: [2, 6, 3], ids: [[0, 3, 3, 1]], axis: 1 },
  ])('gather grad of x$shape along axis $axis', async ({ shape, ids, axis }) => {
    const { cpu, wasm } = await onCpuAndWasm(() => {
      const x = rand(shape, 17);
      const idx = ids.length === 1 ? tf.tensor1d(ids[0]!, 'int32') : tf.tensor2d(ids, undefined, 'int32');
      const dy = rand(tf.gather(x, idx, axis).shape, 18);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.gather(a, idx, axis), dy)))(x)];
    });
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-6);
  });

  it('sums repeated ids and drops out-of-range ids (closed form)', async () => {
    await tf.setBackend('wasm');
    const out = tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]), tf.tensor1d([1, 1, 3, 0], 'int32'), 3);
    expect(Array.from(out.dataSync())).toEqual([7, 8, 4, 6, 0, 0]);
    const ints = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([0, 0, 1], 'int32'), 2);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([3, 3]);
    tf.dispose([out, ints]);
  });

  it('is leak-free', async () => {
    await tf.setBackend('wasm');
    const x = rand([6, 4], 1);
    const idx = tf.tensor1d([1, 1, 4], 'int32');
    await expectNoLeaks(() => tf.grad((a: tf.Tensor) => tf.sum(tf.gather(a, idx)))(x));
    tf.dispose([x, idx]);
  });
});

describe("selectRows (@lico/core) on wasm: the gradient is a one-hot matMul", () => {
  it('equals the closed form on wasm, also where stock OneHot ignores a float32 dtype', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([4, 2]);
    const idx = tf.tensor1d([2, 0, 2], 'int32');
    const w = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(selectRows(v, idx), w)))(x);
    expect(g.arraySync()).toEqual([[3, 4], [0, 0], [6, 8], [0, 0]]);
    tf.dispose([x, idx, w, g]);
  });
});
