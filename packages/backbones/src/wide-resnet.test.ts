import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { CONV_ADD_ACT, CONV_AFFINE_ACT, ConfigError, NonFiniteError, ShapeError, UnknownNameError } from '@lico/core';
import { expectClose, expectNoLeaks, gradientCheck, loadGolden, registerConvEpilogueReference, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import { createWideResNet } from './index';

const golden = loadGolden<{ param_counts: Record<string, number> }>(new URL('./__golden__/torch-parity.json', import.meta.url));

beforeAll(useCpuBackend);

const input = (n: number, h: number, c: number, seed = 1): tf.Tensor4D => tf.randomNormal([n, h, h, c], 0, 1, 'float32', seed) as tf.Tensor4D;

describe('createWideResNet', () => {
  test('parameter counts equal the PyTorch reference (WRN-28-2/10 classes, WRN-28-8/100 classes)', () => {
    const a = createWideResNet({ preset: 'wrn-28-2', numClasses: 10 });
    expect(a.countParams()).toBe(golden.param_counts['wrn-28-2-10']);
    expect(a.countParams()).toBe(1_469_642);
    a.dispose();
    const b = createWideResNet({ preset: 'wrn-28-8', numClasses: 100, initialize: false });
    expect(b.countParams()).toBe(golden.param_counts['wrn-28-8-100']);
    b.dispose();
  });

  test('layer names, names of variables, trainable vs moving statistics', () => {
    const m = createWideResNet({ preset: 'wrn-16-1', numClasses: 10, inputChannels: 1 });
    expect(m.layerNames).toEqual(['conv1', 'block1', 'block2', 'block3', 'features']);
    expect(m.name).toBe('wrn-16-1');
    expect(m.inputShape).toEqual([null, null, 1]);
    const names = Object.keys(m.namedVariables());
    expect(names).toContain('block1.layer.0.bn1.running_mean');
    expect(names).toContain('block2.layer.0.convShortcut.weight');
    expect(names).toContain('fc.bias');
    const trainable = new Set(m.trainableVariables());
    for (const v of m.nonTrainableVariables()) expect(trainable.has(v)).toBe(false);
    const running = names.filter((n) => n.includes('running_'));
    expect(m.nonTrainableVariables().length).toBe(running.length);
    expect(m.trainableVariables().reduce((a, v) => a + v.size, 0)).toBe(m.countParams());
    expect(m.config).toMatchObject({ architecture: 'wide-resnet', depth: 16, widen: 1, numClasses: 10, inputChannels: 1 });
    m.dispose();
  });

  test('presets and explicit depth/widen; invalid options are clear errors', () => {
    expect(() => createWideResNet({ preset: 'wrn-99-1' as 'wrn-28-2', numClasses: 10 })).toThrow(UnknownNameError);
    expect(() => createWideResNet({ depth: 27, numClasses: 10 })).toThrow(ConfigError);
    expect(() => createWideResNet({ depth: 10, widen: 1, numClasses: 0 })).toThrow(ConfigError);
    expect(() => createWideResNet({ depth: 10, widen: 1, numClasses: 3, dropout: 1 })).toThrow(ConfigError);
    const m = createWideResNet({ depth: 10, widen: 3, numClasses: 4 });
    expect(m.name).toBe('wrn-10-3');
    m.dispose();
  });

  test('same seed, same weights; different seed, different weights', () => {
    const a = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, seed: 5 });
    const b = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, seed: 5 });
    const c = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, seed: 6 });
    const w = (m: typeof a) => Array.from(m.namedVariables()['block2.layer.0.conv1.weight']!.dataSync());
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    // Kaiming fan-out: std sqrt(2 / (3*3*32)) for a 3x3 conv with 32 outputs.
    const v = w(a);
    const std = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(std).toBeGreaterThan(0.9 * Math.sqrt(2 / 288));
    expect(std).toBeLessThan(1.1 * Math.sqrt(2 / 288));
    [a, b, c].forEach((m) => m.dispose());
  });

  test('forward shapes; forwardTo + forwardFrom equal forward at every layer; leak-free', async () => {
    const m = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, inputChannels: 2 });
    const x = input(2, 12, 2);
    const full = await expectNoLeaks(() => m.forward(x, { training: false }));
    expect(full.featureMap.shape).toEqual([2, 3, 3, 64]);
    expect(full.embedding.shape).toEqual([2, 64]);
    expect(full.logits.shape).toEqual([2, 3]);
    expectClose(full.embedding, tf.mean(full.featureMap, [1, 2]), { atol: 1e-6 });
    const shapes: number[][] = [];
    for (const layer of m.layerNames) {
      await expectNoLeaks(() => {
        const a = m.forwardTo(x, layer, { training: false });
        shapes.push(a.shape);
        const rest = m.forwardFrom(a, layer, { training: false });
        expectClose(rest.logits, full.logits, { atol: 1e-5, rtol: 1e-5 });
        expectClose(rest.featureMap, full.featureMap, { atol: 1e-5, rtol: 1e-5 });
        tf.dispose([a, rest.featureMap, rest.embedding, rest.logits]);
      });
    }
    expect(shapes).toEqual([[2, 12, 12, 16], [2, 12, 12, 16], [2, 6, 6, 32], [2, 3, 3, 64], [2, 3, 3, 64]]);
    m.dispose();
  });

  test('training mode updates moving statistics (decay 0.999, unbiased variance); inference uses and keeps them', () => {
    const m = createWideResNet({ preset: 'wrn-10-1', numClasses: 3 });
    const x = tf.add(tf.mul(input(2, 8, 3), 2), 1) as tf.Tensor4D;
    const vars = m.namedVariables();
    const before = { mean: vars['conv1.weight'] && Array.from(vars['block1.layer.0.bn1.running_mean']!.dataSync()) };
    const inf1 = m.forward(x, { training: false });
    expect(Array.from(vars['block1.layer.0.bn1.running_mean']!.dataSync())).toEqual(before.mean);
    // block1.layer.0.bn1 sees the conv1 output: compute its batch moments directly.
    const a = m.forwardTo(x, 'conv1', { training: false });
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    const count = 2 * 8 * 8;
    const train = m.forward(x, { training: true });
    expectClose(vars['block1.layer.0.bn1.running_mean']!, tf.mul(mean, 0.001), { atol: 1e-6, rtol: 1e-4 });
    expectClose(vars['block1.layer.0.bn1.running_var']!, tf.add(0.999, tf.mul(variance, (0.001 * count) / (count - 1))), { atol: 1e-6, rtol: 1e-4 });
    // Training-mode output differs from inference (batch statistics), inference now differs from before.
    expect(Array.from(train.logits.dataSync())).not.toEqual(Array.from(inf1.logits.dataSync()));
    const inf2 = m.forward(x, { training: false });
    expect(Array.from(inf2.logits.dataSync())).not.toEqual(Array.from(inf1.logits.dataSync()));
    m.dispose();
  });

  test('gradients reach every trainable variable that the reference uses; finite-difference check through forwardFrom', () => {
    const m = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, inputChannels: 1 });
    const x = input(2, 8, 1, 3);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x, { training: true }).logits, tf.tensor2d([[1, -2, 0.5], [0.3, 1, -1]]))) as tf.Scalar);
    const named = m.namedVariables();
    const byId = new Map(Object.entries(named).map(([k, v]) => [v.name, k]));
    const withGrad = Object.keys(grads).map((id) => byId.get(id));
    const trainableNames = Object.entries(named).filter(([, v]) => v.trainable).map(([k]) => k);
    // In the reference, bn1 of the first block of stages 2 and 3 (channels change, no
    // activate-before-residual) is computed but unused: no gradient reaches it.
    const unused = ['block2.layer.0.bn1.weight', 'block2.layer.0.bn1.bias', 'block3.layer.0.bn1.weight', 'block3.layer.0.bn1.bias'];
    expect(withGrad.sort()).toEqual(trainableNames.filter((n) => !unused.includes(n)).sort());
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    // Finite differences of the head w.r.t. an intermediate activation (what interpreters differentiate).
    const act = m.forwardTo(x, 'block2', { training: false });
    const w = tf.randomNormal([2, 3], 0, 1, 'float32', 4);
    const err = gradientCheck((a) => tf.sum(tf.mul(m.forwardFrom(a as tf.Tensor4D, 'block2', { training: false }).logits, w)), act, { h: 1e-2, maxChecks: 30 });
    // float32 central differences with LeakyReLU kinks: a wrong gradient gives O(1) errors.
    expect(err).toBeLessThan(5e-2);
    m.dispose();
  });

  test('inference mode under a tape (saliency): input gradients match finite differences; weight gradients still reach every variable used', () => {
    const m = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, inputChannels: 1, seed: 5 });
    // Non-trivial running statistics, so that the folded batch norms differ from identity maps.
    for (let i = 0; i < 3; i++) tf.tidy(() => m.forward(input(4, 8, 1, 10 + i), { training: true }).logits);
    const w = tf.tensor2d([[1, -2, 0.5], [0.3, 1, -1]]);
    const f = (xi: tf.Tensor): tf.Scalar => tf.sum(tf.mul(m.forward(xi as tf.Tensor4D, { training: false }).logits, w));
    // h = 3e-3: measured 0.022 (1e-2 crosses LeakyReLU kinks here: 0.07, as with the stock batch norm).
    expect(gradientCheck(f, input(2, 8, 1, 3), { h: 3e-3, maxChecks: 40 })).toBeLessThan(5e-2);
    const { grads } = tf.variableGrads(() => f(input(2, 8, 1, 3)));
    const named = m.namedVariables();
    const byId = new Map(Object.entries(named).map(([k, v]) => [v.name, k]));
    const unused = ['block2.layer.0.bn1.weight', 'block2.layer.0.bn1.bias', 'block3.layer.0.bn1.weight', 'block3.layer.0.bn1.bias'];
    const trainable = Object.entries(named).filter(([k, v]) => v.trainable && !unused.includes(k)).map(([k]) => k);
    expect(Object.keys(grads).map((id) => byId.get(id)).sort()).toEqual(trainable.sort());
    tf.dispose(Object.values(grads));
    m.dispose();
  });

  test('a training step (forward, gradients, SGD update, moving statistics) leaks no tensors', async () => {
    const m = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, inputChannels: 1, dropout: 0.2 });
    const x = input(2, 8, 1, 3);
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const opt = tf.train.momentum(0.01, 0.9);
    const step = () => {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, m.forward(x, { training: true }).logits) as tf.Scalar, true, m.trainableVariables());
      const v = loss!.dataSync()[0]!;
      loss!.dispose();
      return v;
    };
    step(); // creates the optimizer's slots
    const first = await expectNoLeaks(step);
    let last = first;
    for (let i = 0; i < 2; i++) last = await expectNoLeaks(step);
    expect(last).toBeLessThan(first);
    opt.dispose();
    m.dispose();
  });

  test('dropout: active only in training, seeded', () => {
    const x = input(2, 8, 3);
    const run = (dropout: number, seed: number, training: boolean): number[] => {
      const m = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, dropout, seed });
      const out = Array.from(m.forward(x, { training }).logits.dataSync());
      m.dispose();
      return out;
    };
    expect(run(0.5, 1, false)).toEqual(run(0, 1, false));
    expect(run(0.5, 1, true)).not.toEqual(run(0, 1, true));
    expect(run(0.5, 1, true)).toEqual(run(0.5, 1, true));
  });

  test('wrong rank, wrong channel count, non-finite input, unknown layer: clear errors', () => {
    const m = createWideResNet({ preset: 'wrn-10-1', numClasses: 3 });
    expect(() => m.forward(tf.zeros([8, 8, 3]) as unknown as tf.Tensor4D, { training: false })).toThrow(ShapeError);
    expect(() => m.forward(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, { training: false })).toThrow(/3 channel\(s\).*\[1,8,8,1\]/);
    const bad = tf.tensor4d([0, Number.NaN, 0], [1, 1, 1, 3]);
    expect(() => m.forward(bad, { training: false })).toThrow(NonFiniteError);
    expect(() => m.forwardTo(input(1, 8, 3), 'block9', { training: false })).toThrow(UnknownNameError);
    expect(() => m.forwardFrom(tf.zeros([1, 8, 8, 5]) as tf.Tensor4D, 'block1', { training: false })).toThrow(/16 channels/);
    m.dispose();
    expect(() => m.forward(input(1, 8, 3), { training: false })).toThrow(/disposed/);
  });
});

describe('createWideResNet: the fused conv epilogue kernels where the backend has them', () => {
  /** Counts the calls of each fused kernel (a float64 reference registered on cpu for the test). */
  function withFusedKernels<T>(fn: (calls: Record<string, number>) => T): T {
    const calls: Record<string, number> = { [CONV_AFFINE_ACT]: 0, [CONV_ADD_ACT]: 0 };
    const unregister = registerConvEpilogueReference([CONV_AFFINE_ACT, CONV_ADD_ACT]);
    for (const name of [CONV_AFFINE_ACT, CONV_ADD_ACT]) {
      const config = tf.getKernel(name, 'cpu')!;
      tf.unregisterKernel(name, 'cpu');
      tf.registerKernel({ ...config, kernelFunc: (args) => ((calls[name] = calls[name]! + 1), config.kernelFunc(args)) });
    }
    let result: T;
    try {
      result = fn(calls);
    } catch (e) {
      unregister();
      throw e;
    }
    if (result instanceof Promise) return result.finally(unregister) as T;
    unregister();
    return result;
  }

  test('inference runs conv1 → bn2 → LeakyReLU and conv2 + shortcut as one kernel each, with the unfused values and input gradient', () => {
    const m = createWideResNet({ preset: 'wrn-16-1', numClasses: 5, seed: 4 });
    for (const [name, v] of Object.entries(m.namedVariables())) {
      if (name.endsWith('running_var')) v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', 7));
      if (name.endsWith('running_mean')) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 8));
    }
    const x = input(2, 8, 3, 3);
    const f = (a: tf.Tensor) => tf.sum(tf.mul(m.forward(a as tf.Tensor4D, { training: false }).logits, tf.range(1, 6)));
    const plain = tf.tidy(() => [m.forward(x, { training: false }).logits, tf.grad(f)(x)]);
    const fused = withFusedKernels((calls) => {
      const out = tf.tidy(() => [m.forward(x, { training: false }).logits, tf.grad(f)(x)]);
      // WRN-16-1: 2 blocks per group, 3 groups; inference and the gradient's forward: 2 × 6 of each
      expect(calls).toEqual({ [CONV_AFFINE_ACT]: 12, [CONV_ADD_ACT]: 12 });
      return out;
    });
    expectClose(fused[0]!, plain[0]!, { atol: 1e-4, rtol: 1e-4 });
    expectClose(fused[1]!, plain[1]!, { atol: 1e-4, rtol: 1e-4 });
    tf.dispose([x, ...plain, ...fused]);
    m.dispose();
  });

  test('training and bias taps keep the unfused layers; no leaks', async () => {
    const m = createWideResNet({ preset: 'wrn-16-1', numClasses: 5, seed: 4 });
    const x = input(2, 8, 3, 3);
    await withFusedKernels(async (calls) => {
      await expectNoLeaks(() => tf.dispose(Object.values(m.forward(x, { training: true }))));
      expect(calls).toEqual({ [CONV_AFFINE_ACT]: 0, [CONV_ADD_ACT]: 0 });
      tf.dispose(Object.values(m.forwardWithBiasTaps!(x, (_layer, y) => y)));
      expect(calls).toEqual({ [CONV_AFFINE_ACT]: 0, [CONV_ADD_ACT]: 0 });
      await expectNoLeaks(() => tf.dispose(Object.values(m.forward(x, { training: false }))));
      expect(calls).toEqual({ [CONV_AFFINE_ACT]: 6, [CONV_ADD_ACT]: 6 });
    });
    x.dispose();
    m.dispose();
  });
});
