import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeaks, relativeError } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { onCpuAndWasm as onBoth, rand, KERNEL_BUILDS } from './test-parity';
import { selectWasmKernelBuild } from './kernel-build';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe.each(KERNEL_BUILDS)('BatchMatMul on wasm (lico SIMD kernel) matches the cpu backend (%s build)', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));

  // Sizes hit every tile remainder (rows 1–3 past a multiple of 4, column groups of 8, 4 and 1–3).
  const shapes: { a: number[]; b: number[]; name: string }[] = [
    { name: '2-D 5×9 · 9×13', a: [5, 9], b: [9, 13] },
    { name: '2-D 1×1 · 1×1', a: [1, 1], b: [1, 1] },
    { name: '2-D 1×17 · 17×1', a: [1, 17], b: [17, 1] },
    { name: '3-D batch 3, 7×5 · 5×22', a: [3, 7, 5], b: [3, 5, 22] },
    { name: 'a broadcast: [1,6,4] · [4,4,11]', a: [1, 6, 4], b: [4, 4, 11] },
    { name: 'b broadcast: [2,3,6,4] · [4,12] (rank 2)', a: [2, 3, 6, 4], b: [4, 12] },
    { name: 'rank 4 both: [2,2,9,8] · [2,2,8,8]', a: [2, 2, 9, 8], b: [2, 2, 8, 8] },
  ];
  const transposes = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const;
  for (const { name, a, b } of shapes)
    it.each(transposes)(`${name}, transposeA %s, transposeB %s`, async (ta, tb) => {
      const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s);
      const { cpu, wasm } = await onBoth(() => [tf.matMul(rand(swap(a, ta), 1), rand(swap(b, tb), 2), ta, tb)]);
      expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
    });

  it('a closed form: [[1,2],[3,4]]ᵀ · [[1,0],[0,1]]ᵀ', async () => {
    await tf.setBackend('wasm');
    const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 0], [0, 1]]), true, true);
    expect(Array.from(c.dataSync())).toEqual([1, 3, 2, 4]);
    c.dispose();
  });

  it('partial batch broadcasts ([2,1] with [1,3]) and empty products go to the stock kernel or give zeros', async () => {
    const { cpu, wasm } = await onBoth(() => [tf.matMul(rand([2, 1, 3, 4], 3), rand([1, 3, 4, 5], 4)), tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]))]);
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
    expect(Array.from(wasm[1]!)).toEqual(new Array(12).fill(0));
  });

  it('dense-layer and attention gradients (transposed products) match', async () => {
    const { cpu, wasm } = await onBoth(() => {
      const x = rand([6, 10], 5);
      const q = rand([4, 7, 8], 6);
      const r = rand([4, 7, 7], 11); // a weighted sum: the gradient of a plain sum of a softmax is 0
      const f = (w: tf.Tensor, k: tf.Tensor) => tf.add(tf.sum(tf.square(tf.matMul(x, w))), tf.sum(tf.mul(r, tf.softmax(tf.matMul(q, k, false, true)))));
      return tf.grads(f)([rand([10, 3], 7), rand([4, 7, 8], 8)]);
    });
    for (let i = 0; i < 2; i++) expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5);
  });

  it('is leak-free and frees its scratch', async () => {
    await tf.setBackend('wasm');
    const a = rand([3, 5, 7], 9);
    const b = rand([3, 6, 7], 10);
    const dataIds = tf.engine().backend.numDataIds();
    tf.matMul(a, b, false, true).dispose();
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    await expectNoLeaks(() => tf.matMul(a, b, false, true));
    tf.dispose([a, b]);
  });
});
