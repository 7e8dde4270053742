import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeaks, relativeError } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2dFilterGrad } from './conv2d-backprop-filter';
import { conv2dInputGrad } from './conv2d-backprop-input';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { onCpuAndWasm as onBoth, rand, KERNEL_BUILDS } from './test-parity';
import { selectWasmKernelBuild } from './kernel-build';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe.each(KERNEL_BUILDS)('conv2d gradients on wasm match the cpu backend (%s build)', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));

  const cases: { b: number; h: number; w: number; cin: number; cout: number; k: number; kw?: number; s: number; pad: 'same' | 'valid' }[] = [];
  for (const b of [1, 3])
    for (const h of [5, 8])
      for (const k of [1, 3])
        for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) cases.push({ b, h, w: h + 1, cin: 3, cout: 4, k, s, pad });
  cases.push({ b: 2, h: 9, w: 7, cin: 5, cout: 2, k: 4, kw: 2, s: 2, pad: 'same' });
  cases.push({ b: 2, h: 9, w: 10, cin: 2, cout: 3, k: 5, s: 3, pad: 'valid' });
  cases.push({ b: 2, h: 11, w: 11, cin: 4, cout: 6, k: 3, s: 2, pad: 'same' });
  cases.push({ b: 2, h: 4, w: 4, cin: 3, cout: 3, k: 7, s: 1, pad: 'same' });

  it.each(cases)('x[$b,$h,$w,$cin] k=$k/$kw s=$s $pad', async ({ b, h, w, cin, cout, k, kw, s, pad }) => {
    const { cpu, wasm } = await onBoth(() => {
      const x = rand([b, h, w, cin], 1);
      const filter = rand([k, kw ?? k, cin, cout], 2);
      const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, s, pad);
      const dy = rand(y.shape, 3);
      const [gx, gw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, s, pad), dy)))([x, filter]);
      return [gx!, gw!];
    });
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
    expect(relativeError(wasm[1]!, cpu[1]!)).toBeLessThan(1e-5);
  });

  it('fused conv2d with bias and relu: all three gradients', async () => {
    const { cpu, wasm } = await onBoth(() => {
      const x = rand([3, 8, 8, 4], 4);
      const filter = rand([3, 3, 4, 5], 5) as tf.Tensor4D;
      const bias = rand([5], 6);
      const dy = rand([3, 4, 4, 5], 7);
      const f = (a: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, bias: c, strides: 2, pad: 'same', activation: 'relu' }), dy));
      return tf.grads(f)([x, filter, bias]);
    });
    for (let i = 0; i < 3; i++) expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5);
  });

  it('conv2dTranspose (whose forward is Conv2DBackpropInput) matches', async () => {
    const { cpu, wasm } = await onBoth(() => [tf.conv2dTranspose(rand([2, 5, 5, 3], 8) as tf.Tensor4D, rand([3, 3, 4, 3], 9) as tf.Tensor4D, [2, 10, 10, 4], 2, 'same')]);
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
  });

  it('matches a closed form: 1×1 filter gradient is xᵀ·dy', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const g = tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid')))(tf.tensor4d([0.5], [1, 1, 1, 1]));
    expect(Array.from(g.dataSync())).toEqual([10]);
    tf.dispose([x, g]);
  });

  it.each([
    { k: 3, s: 1, pad: 'same' as const },
    { k: 3, s: 2, pad: 'same' as const },
    { k: 1, s: 2, pad: 'valid' as const },
  ])('the exported tensor functions give the same gradients on the cpu backend (slices instead of heap views), k=$k s=$s', async ({ k, s, pad }) => {
    const { cpu, wasm } = await onBoth(() => {
      const x = rand([2, 7, 6, 3], 21) as tf.Tensor4D;
      const filter = rand([k, k, 3, 4], 22) as tf.Tensor4D;
      const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, s, 1, pad);
      const dy = rand([2, info.outHeight, info.outWidth, 4], 23) as tf.Tensor4D;
      const [gx, gw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, s, pad), dy)))([x, filter]);
      return [conv2dInputGrad(dy, filter, info), conv2dFilterGrad(x, dy, info), gx!, gw!];
    });
    // On cpu the functions run their non-wasm path; compare them with the cpu backend's own gradients.
    expect(relativeError(cpu[0]!, cpu[2]!)).toBeLessThan(1e-5);
    expect(relativeError(cpu[1]!, cpu[3]!)).toBeLessThan(1e-5);
    expect(relativeError(wasm[0]!, cpu[2]!)).toBeLessThan(1e-5);
    expect(relativeError(wasm[1]!, cpu[3]!)).toBeLessThan(1e-5);
  });

  it('heap views leave no backend data behind', async () => {
    await tf.setBackend('wasm');
    const x = rand([2, 6, 6, 3], 1);
    const filter = rand([3, 3, 3, 4], 2);
    const dataIds = tf.engine().backend.numDataIds();
    const g = tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')))(filter);
    g.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, filter]);
  });

  it('is leak-free', async () => {
    await tf.setBackend('wasm');
    const x = rand([2, 6, 6, 3], 1);
    const filter = rand([3, 3, 3, 4], 2);
    await expectNoLeaks(() => tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 2, 'same')))([x, filter]));
    tf.dispose([x, filter]);
  });
});
