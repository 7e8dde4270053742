import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@lico/core';
import { useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InMemoryDataset } from './dataset';
import { DEBIAN_FASHION_MNIST_DIR, fashionMnist } from './fashion-mnist';
import { createLocalisationBenchmark } from './localisation-benchmark';
import { maskBox } from './localisation';

let fm: InMemoryDataset;
beforeAll(async () => {
  await useCpuBackend();
  fm = await fashionMnist({ split: 'test', root: DEBIAN_FASHION_MNIST_DIR });
});

describe('localisation benchmark on Fashion-MNIST', () => {
  it('without clutter, the image is exactly the object on black and the mask is its silhouette', () => {
    const bench = createLocalisationBenchmark({ source: fm, count: 50, seed: 1, distractors: 0, noise: 0, canvasSize: 64, scale: [0.4, 0.6] });
    expect(bench.imageShape).toEqual([64, 64, 1]);
    for (let i = 0; i < 50; i++) {
      const s = bench.sample(i);
      expect(s.label).toBe(fm.labels[s.sourceIndex]);
      expect(bench.label(i)).toBe(s.label);
      let inMask = 0;
      let dimInMask = 0;
      let litOutside = 0;
      for (let p = 0; p < 64 * 64; p++) {
        if (s.mask[p] === 1) {
          inMask++;
          if (s.image[p]! <= 24) dimInMask++;
        } else if (s.image[p] !== 0) litOutside++;
      }
      expect(inMask).toBeGreaterThan(20);
      expect(dimInMask).toBe(0);
      expect(litOutside).toBe(0);
      expect(s.box).toEqual(maskBox(s.mask, 64, 64));
      const [y0, x0, y1, x1] = s.box;
      // The object side is within scale × canvas (0.4·64 = 25.6 → 26 … 0.6·64 = 38.4 → 38).
      expect(Math.max(y1 - y0, x1 - x0)).toBeLessThanOrEqual(38);
      expect(y0).toBeGreaterThanOrEqual(0);
      expect(x1).toBeLessThanOrEqual(64);
    }
    // Positions vary over the canvas.
    const centres = Array.from({ length: 50 }, (_, i) => bench.box(i)[1]);
    expect(Math.max(...centres) - Math.min(...centres)).toBeGreaterThan(15);
  });

  it('clutter and noise put energy outside the mask; samples are a pure function of (seed, index)', () => {
    const a = createLocalisationBenchmark({ source: fm, count: 10, seed: 7 });
    const b = createLocalisationBenchmark({ source: fm, count: 100000, seed: 7 });
    const c = createLocalisationBenchmark({ source: fm, count: 10, seed: 8 });
    expect(Array.from(b.sample(3).image)).toEqual(Array.from(a.sample(3).image));
    expect(Array.from(b.mask(3))).toEqual(Array.from(a.mask(3)));
    expect(Array.from(c.sample(3).image)).not.toEqual(Array.from(a.sample(3).image));
    let outside = 0;
    let bright = 0;
    for (let i = 0; i < 10; i++) {
      const s = a.sample(i);
      for (let p = 0; p < 64 * 64; p++) {
        if (s.mask[p] === 0) {
          outside++;
          if (s.image[p]! > 60) bright++;
        }
      }
    }
    // Distractor patches: a noticeable fraction of the background is bright.
    expect(bright / outside).toBeGreaterThan(0.02);
    expect(a.masks).toHaveLength(10);
    expect(a.boxes[4]).toEqual(a.box(4));
  });

  it('delivers batches whose masks line up with batch.indices', async () => {
    const bench = createLocalisationBenchmark({ source: fm, count: 12, seed: 3, canvasSize: 48 });
    let n = 0;
    for await (const batch of bench.batches({ batchSize: 5, seed: 0 })) {
      const masks = bench.batchMasks(batch.indices);
      expect(masks.length).toBe(batch.indices.length * 48 * 48);
      const k = batch.indices.length - 1;
      expect(Array.from(masks.subarray(k * 2304, (k + 1) * 2304))).toEqual(Array.from(bench.mask(batch.indices[k]!)));
      // Normalised with the source's statistics.
      const px = bench.sample(batch.indices[0]!).image[0]!;
      expect(batch.images.dataSync()[0]).toBeCloseTo((px / 255 - 0.286) / 0.353, 5);
      n += batch.indices.length;
      tf.dispose([batch.images, batch.labels]);
    }
    expect(n).toBe(12);
  });

  it('validates its options', () => {
    expect(() => createLocalisationBenchmark({ source: fm, count: 0, seed: 0 })).toThrow(ConfigError);
    expect(() => createLocalisationBenchmark({ source: fm, count: 1, seed: 0, scale: [0.5, 0.2] })).toThrow(/scale/);
    expect(() => createLocalisationBenchmark({ source: fm, count: 2, seed: 0 }).sample(2)).toThrow(/outside 0..1/);
  });
});
