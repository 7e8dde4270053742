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

describe.each(KERNEL_BUILDS)('Conv2D and FusedConv2D on wasm (lico SIMD kernel) match the cpu backend (%s build)', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));

  const cases: { b: number; h: number; w: number; cin: number; cout: number; k: number; kw?: number; s: number | [number, number]; pad: 'same' | 'valid' }[] = [];
  for (const b of [1, 3]) for (const k of [1, 3]) for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) cases.push({ b, h: 7, w: 8, cin: 5, cout: 12, k, s, pad });
  cases.push({ b: 2, h: 9, w: 7, cin: 3, cout: 17, k: 4, kw: 2, s: [2, 3], pad: 'same' });
  cases.push({ b: 2, h: 4, w: 4, cin: 9, cout: 3, k: 7, s: 1, pad: 'same' });
  cases.push({ b: 2, h: 10, w: 10, cin: 16, cout: 8, k: 3, s: 3, pad: 'valid' });

  it.each(cases)('conv2d x[$b,$h,$w,$cin] → $cout, k=$k/$kw s=$s $pad', async ({ b, h, w, cin, cout, k, kw, s, pad }) => {
    const { cpu, wasm } = await onBoth(() => [tf.conv2d(rand([b, h, w, cin], 1) as tf.Tensor4D, rand([k, kw ?? k, cin, cout], 2) as tf.Tensor4D, s, pad)]);
    expect(relativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
  });

  it.each(['linear', 'relu'] as const)('fused conv2d with bias and %s activation', async (activation) => {
    const { cpu, wasm } = await onBoth(() => [
      tf.fused.conv2d({ x: rand([3, 8, 9, 6], 3) as tf.Tensor4D, filter: rand([3, 3, 6, 10], 4) as tf.Tensor4D, bias: rand([10], 5), strides: 2, pad: 'same', activation }),
      tf.fused.conv2d({ x: rand([2, 5, 5, 4], 6) as tf.Tensor4D, filter: rand([3, 3, 4, 7], 7) as tf.Tensor4D, strides: 1, pad: 'valid', activation }),
    ]);
    for (let i = 0; i < 2; i++) expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5);
    if (activation === 'relu') expect(Math.min(...wasm[0]!)).toBe(0);
  });

  it('hands what it does not cover to the stock kernels: elu, leaky relu, prelu, dilations', async () => {
    const { cpu, wasm } = await onBoth(() => {
      const x = rand([2, 9, 9, 4], 8) as tf.Tensor4D;
      const f = rand([3, 3, 4, 6], 9) as tf.Tensor4D;
      return [
        tf.fused.conv2d({ x, filter: f, bias: rand([6], 10), activation: 'elu', strides: 1, pad: 'same' }),
        tf.fused.conv2d({ x, filter: f, activation: 'leakyrelu', leakyreluAlpha: 0.2, strides: 1, pad: 'same' }),
        tf.fused.conv2d({ x, filter: f, activation: 'prelu', preluActivationWeights: rand([6], 11), strides: 1, pad: 'same' }),
        tf.conv2d(x, f, 1, 'same', 'NHWC', 2),
      ];
    });
    for (let i = 0; i < wasm.length; i++) expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5);
  });

  it('training through it: the gradients of a fused conv with bias and relu match', async () => {
    const { cpu, wasm } = await onBoth(() => {
      const x = rand([3, 8, 8, 4], 12);
      const dy = rand([3, 8, 8, 5], 13);
      const f = (a: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, bias: c, strides: 1, pad: 'same', activation: 'relu' }), dy));
      return tf.grads(f)([x, rand([3, 3, 4, 5], 14), rand([5], 15)]);
    });
    for (let i = 0; i < 3; i++) expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5);
  });

  it('leaves no backend data behind (its scratch filter is freed) and is leak-free', async () => {
    await tf.setBackend('wasm');
    const x = rand([2, 6, 6, 3], 1) as tf.Tensor4D;
    const filter = rand([3, 3, 3, 4], 2) as tf.Tensor4D;
    const dataIds = tf.engine().backend.numDataIds();
    tf.conv2d(x, filter, 1, 'same').dispose();
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    await expectNoLeaks(() => tf.conv2d(x, filter, 2, 'same'));
    tf.dispose([x, filter]);
  });

  it('Winograd shapes (stride 1, 3×3, ≥ 16 channels): forward, fused, both gradients match the cpu backend; scratch freed, leak-free', async () => {
    const { cpu, wasm } = await onBoth(() => {
      const x = rand([3, 9, 7, 16], 21);
      const w = rand([3, 3, 16, 20], 22);
      const dy = rand([3, 9, 7, 20], 23);
      const grads = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), dy)))([x, w]);
      return [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'), tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: rand([20], 24), strides: 1, pad: 'same', activation: 'relu' }), ...grads];
    });
    for (let i = 0; i < 4; i++) expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5);
    await tf.setBackend('wasm');
    const x = rand([2, 8, 8, 16], 25) as tf.Tensor4D;
    const filter = rand([3, 3, 16, 16], 26) as tf.Tensor4D;
    const dataIds = tf.engine().backend.numDataIds();
    tf.conv2d(x, filter, 1, 'same').dispose();
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    await expectNoLeaks(() => tf.conv2d(x, filter, 1, 'same'));
    await expectNoLeaks(() => tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')))([x, filter]));
    tf.dispose([x, filter]);
  });
});
