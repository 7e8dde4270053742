import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@lico/core';
import { writeSafetensors } from '@lico/core';
import { formulaInputNHWC, formulaStateDict, loadGolden, relativeError } from '@lico/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPreActResNet, createResNet, createWideResNet, loadTorchWeights, torchStateDictShapes, type BackboneClassifier } from './index';

interface Case {
  input_shape_nchw: [number, number, number, number];
  state_dict_shapes: Record<string, number[]>;
  params: number;
  feature_map_shape_nhwc: number[];
  feature_map_stride: number;
  feature_map_nhwc_strided: number[];
  embedding: number[];
  logits: number[];
  train_logits?: number[];
  running_after_train?: Record<string, number[]>;
}
const golden = loadGolden<{ cases: Record<string, Case>; param_counts: Record<string, number> }>(new URL('./__golden__/torch-parity.json', import.meta.url));

let dir: string;
beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  dir = mkdtempSync(path.join(tmpdir(), 'lico-bb-parity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the formula state dict for `name`, loads it into `model`, compares with PyTorch. */
export async function checkParity(name: string, model: BackboneClassifier): Promise<void> {
  const c = golden.cases[name]!;
  expect(torchStateDictShapes(model)).toEqual(c.state_dict_shapes);
  expect(model.countParams()).toBe(c.params);
  const file = path.join(dir, `${name}.safetensors`);
  await writeSafetensors(file, formulaStateDict(c.state_dict_shapes));
  await loadTorchWeights(model, file);
  const x = tf.tensor4d(formulaInputNHWC(c.input_shape_nchw), [c.input_shape_nchw[0], c.input_shape_nchw[2], c.input_shape_nchw[3], c.input_shape_nchw[1]]);
  const out = model.forward(x, { training: false });
  expect(out.featureMap.shape).toEqual(c.feature_map_shape_nhwc);
  const fm = Array.from(out.featureMap.dataSync()).filter((_, i) => i % c.feature_map_stride === 0);
  expect(relativeError(out.logits, c.logits)).toBeLessThan(1e-4);
  expect(relativeError(out.embedding, c.embedding)).toBeLessThan(1e-4);
  expect(relativeError(fm, c.feature_map_nhwc_strided)).toBeLessThan(1e-4);
  tf.dispose([out.featureMap, out.embedding, out.logits]);
  if (c.train_logits) {
    const tr = model.forward(x, { training: true });
    expect(relativeError(tr.logits, c.train_logits)).toBeLessThan(1e-4);
    tf.dispose([tr.featureMap, tr.embedding, tr.logits]);
    const vars = model.namedVariables();
    for (const [key, values] of Object.entries(c.running_after_train!)) {
      expect(relativeError(vars[key]!, values), key).toBeLessThan(1e-4);
    }
  }
  x.dispose();
}

describe('PyTorch parity (formula weights through .safetensors, wasm backend)', () => {
  test('WRN-28-2 (FixMatch wrn.py keys), 3 channels, 32x32', async () => {
    const m = createWideResNet({ preset: 'wrn-28-2', numClasses: 10 });
    await checkParity('wrn-28-2', m);
    m.dispose();
  });
  test('WRN-16-1, 1 channel, 28x28, inference and training mode + running statistics', async () => {
    const m = createWideResNet({ preset: 'wrn-16-1', numClasses: 10, inputChannels: 1 });
    await checkParity('wrn-16-1-c1', m);
    m.dispose();
  });
  test('ResNet-18 (torchvision keys), ImageNet stem, 1000 classes, 64x64', async () => {
    const m = createResNet({ depth: 18, numClasses: 1000, initialize: false });
    await checkParity('resnet18', m);
    m.dispose();
  });
  test('ResNet-50 (torchvision keys, bottleneck), ImageNet stem, 10 classes, 64x64', async () => {
    const m = createResNet({ depth: 50, numClasses: 10, initialize: false });
    await checkParity('resnet50-c10', m);
    m.dispose();
  });
  test('ResNet-18 CIFAR stem, 1 channel, 16x16, inference and training mode + running statistics', async () => {
    const m = createResNet({ depth: 18, numClasses: 10, stem: 'cifar', inputChannels: 1 });
    await checkParity('resnet18-cifar-c1', m);
    m.dispose();
  });
  test('PreActResNet-18 (kuangliu keys), 32x32', async () => {
    const m = createPreActResNet({ numClasses: 10 });
    await checkParity('preact-resnet18', m);
    m.dispose();
  });
});
