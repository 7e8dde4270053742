import * as tf from '@tensorflow/tfjs-core';
import { createWideResNet } from '@lico/backbones';
import { createInMemoryDataset } from '@lico/datasets';
import { useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../args/command-specs';
import { saliencyMetrics } from './evaluate-run';

beforeAll(useCpuBackend);

describe('saliencyMetrics with --metrics', () => {
  const n = 3;
  const images = Uint8Array.from({ length: n * 8 * 8 }, (_, p) => (p * 37) % 256);
  const dataset = createInMemoryDataset({ name: 'toy', images, labels: Int32Array.from([0, 1, 2]), imageShape: [8, 8, 1], classNames: ['a', 'b', 'c'], normalization: { mean: [0.5], std: [0.25] } });

  it('records ROAD, sparseness and max-sensitivity per interpreter (the new interpreters included), leak-free; none without it', async () => {
    const model = createWideResNet({ preset: 'wrn-10-1', numClasses: 3, inputChannels: 1, inputSize: [8, 8], seed: 1 });
    const before = tf.memory().numTensors;
    const r = await saliencyMetrics(model, dataset, { interpreters: ['gradCam', 'ablationCam', 'eigenGradCam', 'fullGrad'], count: n, stepSize: 16, seed: 0, io: null, metrics: [...METRIC_NAMES], sensitivitySamples: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(r.metrics!)).toEqual(['gradCam', 'ablationCam', 'eigenGradCam', 'fullGrad']);
    for (const m of Object.values(r.metrics!)) {
      expect(m.numImages).toBe(n);
      expect(m.roadPercentiles).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
      expect(m.roadCombined).toBeCloseTo((m.roadLerf! - m.roadMorf!) / 2, 6);
      expect(m.sparseness).toBeGreaterThan(0);
      expect(m.sparseness).toBeLessThan(1);
      expect(m.maxSensitivity).toBeGreaterThanOrEqual(0);
      expect(m.maxSensitivitySamples).toBe(2);
      expect(m.maxSensitivityRadius).toBe(0.2);
    }
    const plain = await saliencyMetrics(model, dataset, { interpreters: ['gradCam'], count: n, stepSize: 16, seed: 0, io: null });
    expect(plain.metrics).toBeUndefined();
    const some = await saliencyMetrics(model, dataset, { interpreters: ['gradCam'], count: n, stepSize: 16, seed: 0, io: null, metrics: ['sparseness'] });
    expect(Object.keys(some.metrics!.gradCam!).sort()).toEqual(['numImages', 'seconds', 'sparseness']);
    model.dispose();
  });
});
