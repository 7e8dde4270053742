import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { firstSamples, loadDataset, resolveAugmentation } from './components';

beforeAll(useCpuBackend);

async function firstBatch(dataset: Awaited<ReturnType<typeof loadDataset>>, epoch: number, augment: boolean) {
  for await (const b of dataset.batches({ batchSize: 16, seed: 5, epoch, shuffle: false, augment })) {
    const out = { images: Array.from(await b.images.data()), labels: Array.from(await b.labels.data()) };
    tf.dispose([b.images, b.labels]);
    return out;
  }
  throw new Error('no batch');
}

describe('--augment', () => {
  it("'auto' is the spec's choice for the image size; every name maps to its augmentation", () => {
    expect(resolveAugmentation('auto', [28, 28, 1])).toEqual({ name: 'crop', augmentation: { cropPadding: 4, padMode: 'zero' } });
    expect(resolveAugmentation('auto', [32, 32, 3])).toEqual({ name: 'crop-flip', augmentation: { cropPadding: 4, padMode: 'zero', flip: true } });
    expect(resolveAugmentation('auto', [64, 64, 3]).name).toBe('none');
    expect(resolveAugmentation('crop-flip-noise', [28, 28, 1]).augmentation).toEqual({ cropPadding: 4, padMode: 'zero', flip: true, noiseStd: 0.1 });
    expect(resolveAugmentation('none', [32, 32, 3]).augmentation).toEqual({});
    expect(() => resolveAugmentation('rotate', [28, 28, 1])).toThrow(/Unknown augmentation 'rotate'/);
  });

  it('reaches the batches: with crop the same images differ between epochs (labels equal); with none they do not', async () => {
    const data = firstSamples(await loadDataset('fashion-mnist', 'test'), 16);
    const crop = data.withAugmentation(resolveAugmentation('auto', data.imageShape).augmentation);
    const [a0, a1] = [await firstBatch(crop, 0, true), await firstBatch(crop, 1, true)];
    expect(a0.labels).toEqual(a1.labels);
    const changed = a0.images.filter((v, i) => v !== a1.images[i]).length;
    expect(changed).toBeGreaterThan(a0.images.length / 10);
    // The same epoch draws the same crops (seeded).
    expect((await firstBatch(crop, 0, true)).images).toEqual(a0.images);
    const none = data.withAugmentation(resolveAugmentation('none', data.imageShape).augmentation);
    expect((await firstBatch(none, 0, true)).images).toEqual((await firstBatch(none, 1, true)).images);
    expect((await firstBatch(none, 0, true)).images).toEqual((await firstBatch(data, 0, false)).images);
  });
});
