import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeaks, relativeError } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { convGradRunner } from './conv-grad-kernels';
import { LEAKY_RELU_GRAD } from './leaky-relu';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { onCpuAndWasm, rand } from './test-parity';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe('Slice on wasm (heap-to-heap copies) matches the cpu backend', () => {
  it.each([
    { shape: [11], begin: [3], size: [5] },
    { shape: [4, 7], begin: [1, 2], size: [2, 4] },
    { shape: [4, 7], begin: [1, 0], size: [3, 7] },
    { shape: [3, 5, 6], begin: [0, 1, 0], size: [3, 3, 6] },
    { shape: [2, 5, 6, 3], begin: [1, 1, 2, 0], size: [1, 3, 3, 3] },
    { shape: [2, 5, 6, 3], begin: [0, 0, 0, 1], size: [2, 5, 6, 2] },
    { shape: [2, 3, 4, 5, 3], begin: [1, 0, 1, 2, 0], size: [1, 3, 2, 2, 3] },
  ])('x$shape begin $begin size $size', async ({ shape, begin, size }) => {
    const { cpu, wasm } = await onCpuAndWasm(() => [tf.slice(rand(shape, 1), begin, size)]);
    expect(wasm[0]!.length).toBe(size.reduce((a, b) => a * b, 1));
    expect(Array.from(wasm[0]!)).toEqual(Array.from(cpu[0]!));
  });

  it('int32 and string tensors (closed form)', async () => {
    await tf.setBackend('wasm');
    const ints = tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([2, 3, 5, 6]);
    const strings = tf.slice(tf.tensor1d(['a', 'b', 'c']), [1], [2]);
    expect(strings.dataSync()).toEqual(['b', 'c']);
    tf.dispose([ints, strings]);
  });

  it('is leak-free', async () => {
    await tf.setBackend('wasm');
    const x = rand([3, 4, 5], 2);
    await expectNoLeaks(() => tf.slice(x, [1, 1, 0], [2, 2, 5]));
    x.dispose();
  });
});

describe('GatherV2 on wasm (heap-to-heap slice copies) matches the cpu backend', () => {
  it.each([
    { shape: [4, 32, 32, 3], indices: [0, 3, 1, 1, 2, 0, 3], axis: 0 },
    { shape: [5], indices: [4, 0, 2, 2], axis: 0 },
    { shape: [3, 7, 2], indices: [6, 0, 5], axis: 1 },
    { shape: [3, 4, 5], indices: [4, 4, 0, 1, 3, 2], axis: 2 },
    { shape: [10, 6], indices: [[1, 2], [9, 0], [3, 3]], axis: 0 },
    { shape: [3, 4], indices: [], axis: 0 },
    { shape: [2, 3, 5, 4], indices: [[4, 0, 4], [1, 2, 3]], axis: 2, batchDims: 1 },
    { shape: [2, 5, 17], indices: [[3], [0]], axis: 1, batchDims: 1 },
  ])('x$shape indices $indices axis $axis batchDims $batchDims', async ({ shape, indices, axis, batchDims }) => {
    const { cpu, wasm } = await onCpuAndWasm(() => {
      const g = tf.gather(rand(shape, 3), tf.tensor(indices.flat(), [indices.length, ...(Array.isArray(indices[0]) ? [(indices[0] as number[]).length] : [])], 'int32'), axis, batchDims ?? 0);
      return [g, tf.tensor1d(g.shape)];
    });
    expect(Array.from(wasm[1]!)).toEqual(Array.from(cpu[1]!));
    expect(Array.from(wasm[0]!)).toEqual(Array.from(cpu[0]!));
  });

  it('int32 tensors, batch dimensions (wrong on the stock kernel) and bad indices (closed form)', async () => {
    await tf.setBackend('wasm');
    const ints = tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), [2, 0]);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([5, 6, 1, 2]);
    // batch b takes x[b, idx[b]]: the cpu backend's [[2], [3]]; the stock wasm kernel gave [[2], 2.4e-44]
    const batched = tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0], [2, 1], 'int32'), 1, 1);
    expect(batched.shape).toEqual([2, 1]);
    expect(Array.from(batched.dataSync())).toEqual([2, 3]);
    const x = tf.ones([3, 2]);
    expect(() => tf.gather(x, [0, 3])).toThrow(/GatherV2: the index value 3 is not in \[0, 2\]/);
    expect(() => tf.gather(x, [-1])).toThrow(/GatherV2: the index value -1 is not in \[0, 2\]/);
    tf.dispose([ints, batched, x]);
  });

  it('its gradient (UnsortedSegmentSum) matches the cpu backend; leak-free', async () => {
    const f = () => {
      const x = rand([5, 3], 4);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.gather(a, [4, 1, 4, 0]), rand([4, 3], 5))))(x)];
    };
    const { cpu, wasm } = await onCpuAndWasm(f);
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-6);
    await tf.setBackend('wasm');
    const x = rand([6, 4, 3], 6);
    await expectNoLeaks(() => tf.gather(x, [5, 0, 2], 0));
    x.dispose();
  });
});

describe('Sum and Mean on wasm (average pooling over H, W; one pass over other leading or middle axes) match the cpu backend', () => {
  it.each([
    { shape: [6, 5, 7, 3], axis: [0, 1, 2] },
    { shape: [6, 5, 7, 3], axis: [1, 2] },
    { shape: [6, 5, 7, 3], axis: [0] },
    { shape: [6, 5, 7, 3], axis: [2, 3] },
    { shape: [6, 5, 7, 3], axis: [0, 2] },
    { shape: [9, 4], axis: [0] },
    { shape: [9, 4], axis: [-1] },
  ])('x$shape axis $axis', async ({ shape, axis }) => {
    for (const keepDims of [false, true]) {
      const { cpu, wasm } = await onCpuAndWasm(() => {
        const x = rand(shape, 3);
        const s = tf.sum(x, axis, keepDims);
        const m = tf.mean(x, axis, keepDims);
        return [s, m, tf.reshape(tf.tensor1d(s.shape.concat(m.shape)), [-1])];
      });
      for (let i = 0; i < 3; i++) expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-6);
    }
  });

  it('sums a large per-channel reduction exactly enough (closed form)', async () => {
    await tf.setBackend('wasm');
    const n = 64 * 32 * 32;
    const x = tf.tidy(() => tf.reshape(tf.tile(tf.tensor2d([0.1, -2, 3], [1, 3]), [n, 1]), [64, 32, 32, 3]));
    const s = tf.sum(x, [0, 1, 2]).dataSync();
    const m = tf.mean(x, [0, 1, 2]).dataSync();
    // Through XNNPACK's average pooling: float32 accumulation over each image (as PyTorch).
    expect(Math.abs(s[0]! - 0.1 * n) / (0.1 * n)).toBeLessThan(4e-6);
    expect(s[1]).toBe(-2 * n);
    expect(s[2]).toBe(3 * n);
    expect(Math.abs(m[0]! - 0.1)).toBeLessThan(4e-7);
    x.dispose();
  });

  it('int32 sums go to the stock kernel', async () => {
    await tf.setBackend('wasm');
    const s = tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([4, 6]);
    s.dispose();
  });

  it('is leak-free', async () => {
    await tf.setBackend('wasm');
    const x = rand([4, 3, 3, 2], 4);
    await expectNoLeaks(() => [tf.sum(x, [0, 1, 2]), tf.mean(x, [1, 2], true)]);
    x.dispose();
  });
});

describe('LeakyRelu and its one-pass gradient on wasm', () => {
  it.each([0.1, 1.000049998500045])('match the cpu backend (values and gradient), alpha %s', async (alpha) => {
    const { cpu, wasm } = await onCpuAndWasm(() => {
      const x = rand([3, 5, 4, 6], 5);
      const dy = rand([3, 5, 4, 6], 6);
      const y = tf.leakyRelu(x, alpha);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, alpha), dy)))(x);
      return [y, g];
    });
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-7);
    expect(relativeError(wasm[1]!, cpu[1]!)).toBeLessThan(1e-7);
  });

  it('closed form: slope 1 above zero, alpha at and below zero', async () => {
    await tf.setBackend('wasm');
    expect(tf.getKernel(LEAKY_RELU_GRAD, 'wasm')).toBeDefined();
    const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3]);
    expect(Array.from(tf.leakyRelu(x, 0.2).dataSync())).toEqual([-2 * 0.2, -0.5 * 0.2, 0, 0.5, 3].map(Math.fround));
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, 0.2), tf.tensor1d([1, 2, 3, 4, 5]))))(x);
    expect(Array.from(g.dataSync())).toEqual([0.2, 0.4, 0.6000000000000001, 4, 5].map(Math.fround));
    tf.dispose([x, g]);
  });

  it('slopes above 1, int32 inputs (stock kernel) and scalars', async () => {
    await tf.setBackend('wasm');
    const y = tf.leakyRelu(tf.tensor2d([-1, 2, -3, 4], [2, 2]), 1.5);
    expect(Array.from(y.dataSync())).toEqual([-1.5, 2, -4.5, 4]);
    const ints = tf.leakyRelu(tf.tensor1d([-2, 3], 'int32'), 0.5);
    expect(Array.from(ints.dataSync())).toEqual([-1, 3]);
    const scalar = tf.leakyRelu(tf.scalar(-4), 0.25);
    expect(scalar.dataSync()[0]).toBe(-1);
    tf.dispose([y, ints, scalar]);
  });

  it('the gradient falls back to the stock formula on the cpu backend', async () => {
    await tf.setBackend('cpu');
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.leakyRelu(a, 0.1)))(tf.tensor1d([-1, 2]));
    expect(Array.from(g.dataSync())).toEqual([Math.fround(0.1), 1]);
    g.dispose();
    await tf.setBackend('wasm');
  });

  it('is leak-free', async () => {
    await tf.setBackend('wasm');
    const x = rand([2, 3, 3, 4], 7);
    await expectNoLeaks(() => tf.grad((a: tf.Tensor) => tf.sum(tf.leakyRelu(a, 0.1)))(x));
    x.dispose();
  });
});

describe('Identity on wasm shares data instead of copying', () => {
  it('a clone keeps its values when the original is disposed, and a variable assigned later does not change it', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const dataIds = tf.engine().backend.numDataIds();
    const y = tf.clone(x);
    // Shared: no new buffer on the wasm heap for the clone.
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const v = tf.variable(y);
    const saved = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(saved.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([y, v, saved]);
  });

  it('string tensors go to the stock kernel; leak-free', async () => {
    await tf.setBackend('wasm');
    const s = tf.clone(tf.tensor1d(['a', 'b']));
    expect(s.dataSync()).toEqual(['a', 'b']);
    s.dispose();
    const x = rand([3, 4], 9);
    await expectNoLeaks(() => tf.clone(x));
    x.dispose();
  });
});

describe('Add of two same-shape tensors on wasm (threaded SIMD sum)', () => {
  it.each([
    { shape: [8, 32, 32, 16] }, // 131072 elements: 32 units of 4096
    { shape: [3, 7, 61, 53] }, // 67893: a partial last unit and a tail past the last 4 lanes
  ])('equals Math.fround(a + b) element by element, with both gradients: $shape', async ({ shape }) => {
    await tf.setBackend('wasm');
    const a = rand(shape, 3);
    const b = rand(shape, 4);
    const dy = rand(shape, 5);
    const [av, bv, dyv] = [a.dataSync(), b.dataSync(), dy.dataSync()];
    const y = tf.add(a, b);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.add(p, q), dy)))([a, b]);
    const yv = y.dataSync();
    expect(yv.length).toBe(av.length);
    let wrong = 0;
    for (let k = 0; k < yv.length; k++) if (yv[k] !== Math.fround(av[k]! + bv[k]!)) wrong++;
    expect(wrong).toBe(0);
    expect(Array.from(grads[0]!.dataSync())).toEqual(Array.from(dyv));
    expect(Array.from(grads[1]!.dataSync())).toEqual(Array.from(dyv));
    tf.dispose([a, b, dy, y, ...grads]);
  });

  it('gives the same bits on 1, 2 and 3 threads over a shared memory (runner)', () => {
    const n = 25 * 4096 + 7; // above the threading threshold, with a tail
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
    const [aPtr, bPtr, yPtr] = [0, 1, 2].map((i) => 1024 + i * 4 * (n + 64));
    const f = new Float32Array(memory.buffer);
    for (let k = 0; k < n; k++) {
      f[aPtr / 4 + k] = Math.sin(k) * 3;
      f[bPtr / 4 + k] = Math.cos(0.7 * k) / 7;
    }
    for (const threads of [1, 2, 3]) {
      const runner = convGradRunner(memory, threads)!;
      expect(runner.threads).toBe(threads);
      f.fill(Number.NaN, yPtr / 4, yPtr / 4 + n + 4);
      runner.add(aPtr, bPtr, yPtr, n);
      let wrong = 0;
      for (let k = 0; k < n; k++) if (f[yPtr / 4 + k] !== Math.fround(f[aPtr / 4 + k]! + f[bPtr / 4 + k]!)) wrong++;
      expect(wrong).toBe(0);
      expect(Number.isNaN(f[yPtr / 4 + n]!)).toBe(true); // nothing past the end
    }
  });

  it('is leak-free', async () => {
    await tf.setBackend('wasm');
    const a = rand([4, 32, 32, 16], 1);
    const b = rand([4, 32, 32, 16], 2);
    await expectNoLeaks(() => tf.add(a, b));
    tf.dispose([a, b]);
  });
});

describe('Add of a per-channel bias on wasm (one SIMD pass)', () => {
  it.each([
    { full: [3, 5, 4, 6], first: 'tensor' },
    { full: [2, 7, 13], first: 'bias' }, // 13 channels: SIMD lanes and a tail; bias + tensor
    { full: [64, 10], first: 'tensor' },
    { full: [4, 8, 8, 128], first: 'tensor' }, // above the threading threshold
  ])('equals the cpu backend bit for bit, with the bias gradient: $full, $first first', async ({ full, first }) => {
    const { cpu, wasm } = await onCpuAndWasm(() => {
      const x = rand(full, 7);
      const b = rand([full[full.length - 1]!], 8);
      const dy = rand(full, 9);
      const add = (p: tf.Tensor, q: tf.Tensor) => (first === 'bias' ? tf.add(q, p) : tf.add(p, q));
      const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(add(p, q), dy)))([x, b]);
      return [add(x, b), ...grads];
    });
    expect(Array.from(wasm[0]!)).toEqual(Array.from(cpu[0]!));
    expect(Array.from(wasm[1]!)).toEqual(Array.from(cpu[1]!));
    expect(relativeError(wasm[2]!, cpu[2]!)).toBeLessThan(1e-6);
  });

  it('other adds go to the stock kernel: small same shapes, scalars, int32, rank-1 pairs, other broadcasts (closed forms)', async () => {
    await tf.setBackend('wasm');
    const cases: [tf.Tensor, tf.Tensor, number[]][] = [
      [tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([10, 20, 30, 40], [2, 2]), [11, 22, 33, 44]],
      [tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.scalar(0.5), [1.5, 2.5, 3.5, 4.5]],
      [tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor1d([10, 20], 'int32'), [11, 22, 13, 24]],
      [tf.tensor1d([1, 2]), tf.tensor1d([3, 4]), [4, 6]],
      [tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([10, 20], [2, 1]), [11, 12, 23, 24]],
    ];
    for (const [a, b, expected] of cases) {
      const y = tf.add(a, b);
      expect(Array.from(y.dataSync())).toEqual(expected);
      tf.dispose([a, b, y]);
    }
  });

  it('is leak-free (its coefficient scratch is freed)', async () => {
    await tf.setBackend('wasm');
    const x = rand([2, 4, 4, 8], 1);
    const b = rand([8], 2);
    const dataIds = tf.backend().numDataIds();
    tf.add(x, b).dispose();
    expect(tf.backend().numDataIds()).toBe(dataIds);
    await expectNoLeaks(() => tf.add(x, b));
    tf.dispose([x, b]);
  });
});
