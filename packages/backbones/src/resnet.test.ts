import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@lico/core';
import { ConfigError, ShapeError, UnknownNameError } from '@lico/core';
import { expectClose, expectNoLeaks, loadGolden } from '@lico/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import { createPreActResNet, createResNet } from './index';

const golden = loadGolden<{ param_counts: Record<string, number> }>(new URL('./__golden__/torch-parity.json', import.meta.url));

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const input = (n: number, h: number, c: number): tf.Tensor4D => tf.randomNormal([n, h, h, c], 0, 1, 'float32', 2) as tf.Tensor4D;

describe('createResNet / createPreActResNet', () => {
  test('parameter counts equal torchvision / kuangliu (1000 classes: ResNet-18 11,689,512, ResNet-50 25,557,032)', () => {
    const expected = { 18: 11_689_512, 34: golden.param_counts['resnet34-1000'], 50: 25_557_032, 101: golden.param_counts['resnet101-1000'] } as const;
    for (const depth of [18, 34, 50, 101] as const) {
      const m = createResNet({ depth, numClasses: 1000, initialize: false });
      expect(m.countParams(), `resnet${depth}`).toBe(expected[depth]);
      expect(m.countParams()).toBe(golden.param_counts[`resnet${depth}-1000`]);
      m.dispose();
    }
    const p = createPreActResNet({ numClasses: 10, initialize: false });
    expect(p.countParams()).toBe(golden.param_counts['preact-resnet18-10']);
    expect(p.countParams()).toBe(11_171_146);
    p.dispose();
  });

  test('layer names and feature-map shapes (ImageNet stem: /32, CIFAR stem: /8)', () => {
    const a = createResNet({ depth: 18, numClasses: 5 });
    expect(a.layerNames).toEqual(['stem', 'layer1', 'layer2', 'layer3', 'layer4']);
    const x = input(1, 64, 3);
    const shapes = a.layerNames.map((l) => {
      const t = a.forwardTo(x, l, { training: false });
      const s = t.shape;
      t.dispose();
      return s;
    });
    expect(shapes).toEqual([[1, 16, 16, 64], [1, 16, 16, 64], [1, 8, 8, 128], [1, 4, 4, 256], [1, 2, 2, 512]]);
    a.dispose();
    const b = createResNet({ depth: 50, numClasses: 5, stem: 'cifar', inputChannels: 1 });
    expect(b.name).toBe('resnet50-cifar');
    const out = b.forward(input(1, 16, 1), { training: false });
    expect(out.featureMap.shape).toEqual([1, 2, 2, 2048]);
    expect(out.logits.shape).toEqual([1, 5]);
    b.dispose();
    const p = createPreActResNet({ numClasses: 7 });
    expect(p.layerNames).toEqual(['conv1', 'layer1', 'layer2', 'layer3', 'layer4']);
    expect(p.forward(input(1, 32, 3), { training: false }).featureMap.shape).toEqual([1, 4, 4, 512]);
    p.dispose();
  });

  test('forwardTo + forwardFrom equal forward; leak-free', async () => {
    for (const m of [createResNet({ depth: 18, numClasses: 4, stem: 'cifar' }), createPreActResNet({ numClasses: 4 })]) {
      const x = input(2, 16, 3);
      const full = m.forward(x, { training: false });
      for (const layer of m.layerNames) {
        await expectNoLeaks(() => {
          const a = m.forwardTo(x, layer, { training: false });
          const rest = m.forwardFrom(a, layer, { training: false });
          expectClose(rest.logits, full.logits, { atol: 1e-5, rtol: 1e-4 });
          tf.dispose([a, rest.featureMap, rest.embedding, rest.logits]);
        });
      }
      m.dispose();
    }
  });

  test('training mode: momentum 0.1 update of running statistics; trainableVariables excludes them', () => {
    const m = createResNet({ depth: 18, numClasses: 3, stem: 'cifar' });
    const x = tf.add(input(2, 8, 3), 0.5) as tf.Tensor4D;
    // bn1 normalises conv1's output: its batch moments, by hand.
    const conv = tf.conv2d(x, m.namedVariables()['conv1.weight'] as tf.Variable<tf.Rank.R4>, 1, 1);
    const { mean, variance } = tf.moments(conv, [0, 1, 2]);
    m.forward(x, { training: true });
    const v = m.namedVariables();
    expectClose(v['bn1.running_mean']!, tf.mul(mean, 0.1), { atol: 1e-6, rtol: 1e-4 });
    expectClose(v['bn1.running_var']!, tf.add(0.9, tf.mul(variance, (0.1 * 128) / 127)), { atol: 1e-6, rtol: 1e-4 });
    const trainable = new Set(m.trainableVariables());
    expect(trainable.has(v['bn1.running_mean']!)).toBe(false);
    expect(m.nonTrainableVariables()).toContain(v['bn1.running_var']);
    expect(m.config).toMatchObject({ architecture: 'resnet', depth: 18, stem: 'cifar' });
    m.dispose();
  });

  test('invalid options and inputs are clear errors', () => {
    expect(() => createResNet({ depth: 20 as 18, numClasses: 3 })).toThrow(UnknownNameError);
    expect(() => createResNet({ depth: 18, numClasses: 3, stem: 'tiny' as 'cifar' })).toThrow(UnknownNameError);
    expect(() => createPreActResNet({ depth: 34 as 18, numClasses: 3 })).toThrow(ConfigError);
    const m = createResNet({ depth: 18, numClasses: 3, inputChannels: 1, inputSize: [16, 16] });
    expect(() => m.forward(input(1, 16, 3), { training: false })).toThrow(ShapeError);
    expect(() => m.forward(input(1, 8, 1), { training: false })).toThrow(/spatial size \[16,16\]/);
    m.dispose();
  });
});
