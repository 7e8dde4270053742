import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, createRng, type ImageClassifier } from '@lico/core';
import { expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGradient } from '../interpreters/plugins';
import { gradient } from '../interpreters/gradient';
import { pixelLinearClassifier, pointwiseSumClassifier } from '../testing/tiny-classifiers';
import { maxSensitivity, uniformPerturbation } from './max-sensitivity';

beforeAll(useCpuBackend);

// Closed forms of Quantus' definition (the parity with Quantus itself: src/captum-quantus-parity.test.ts),
// max_δ ‖e(x) − e(x+δ)‖₂ / ‖e(x)‖₂ with δ uniform in [−r, r] per input value.

/** The draws maxSensitivity documents: one forked stream per (image, sample), image by image. */
function documentedDraws(seed: number, images: number, samples: number, size: number, radius: number): Float32Array[][] {
  const root = createRng(seed);
  return Array.from({ length: images }, () => Array.from({ length: samples }, () => uniformPerturbation(root.fork(), size, radius)));
}

describe('max-sensitivity (Quantus MaxSensitivity, closed forms)', () => {
  const h = 3;
  const w = 4;
  const c = 2;
  // all values ≥ 1 > r, so |2(x+δ)| = 2(x+δ) and the gradient map of Σx² is linear in x
  const images = tf.tidy(() => tf.add(1, tf.randomUniform([2, h, w, c], 0, 3, 'float32', 11))) as tf.Tensor4D;
  const square = pointwiseSumClassifier(tf.square, h, w, c);

  it('an explanation that ignores the input has max-sensitivity 0', async () => {
    const model = pixelLinearClassifier([Array.from({ length: h * w * c }, (_, p) => (p % 5) - 2)], h, w, c);
    const r = await expectNoLeaks(() => maxSensitivity(model, images, createGradient({ normalize: false }), { samples: 20 }));
    expect(r.scores).toEqual([0, 0]);
    expect(r.mean).toBe(0);
  });

  it('gradient of Σx² with the channel sum: e(x) = Σ_c 2x_c, so the score is max_δ ‖Σ_c δ_c‖ / ‖Σ_c x_c‖ exactly', async () => {
    const samples = 30;
    const radius = 0.2;
    const explain = (m: ImageClassifier, x: tf.Tensor4D, o?: object) => gradient(m, x, { ...o, normalize: false, channelReduction: 'sum' });
    const r = await expectNoLeaks(() => maxSensitivity(square, images, explain, { samples, radius, seed: 9, batchSize: 7 }));
    const x = images.dataSync();
    const draws = documentedDraws(9, 2, samples, h * w * c, radius);
    for (let i = 0; i < 2; i++) {
      let denominator = 0;
      for (let p = 0; p < h * w; p++) denominator += (x[i * h * w * c + p * c]! + x[i * h * w * c + p * c + 1]!) ** 2;
      let best = 0;
      for (const d of draws[i]!) {
        let s = 0;
        for (let p = 0; p < h * w; p++) s += (d[p * c]! + d[p * c + 1]!) ** 2;
        best = Math.max(best, Math.sqrt(s / denominator));
      }
      expect(r.scores[i]).toBeCloseTo(best, 5);
    }
  });

  it('one pixel, e(x) = x: the score approaches its supremum r/|x| from below', async () => {
    const model = pixelLinearClassifier([[1]], 1, 1, 1);
    const x = tf.tensor4d([2.5], [1, 1, 1, 1]);
    const identity = (_m: ImageClassifier, v: tf.Tensor4D) => Promise.resolve(tf.reshape(v, [v.shape[0], 1, 1]) as tf.Tensor3D);
    const r = await maxSensitivity(model, x, identity, { samples: 400, radius: 0.5 });
    expect(r.scores[0]).toBeLessThanOrEqual(0.5 / 2.5 + 1e-7);
    expect(r.scores[0]).toBeGreaterThan(0.99 * (0.5 / 2.5));
    x.dispose();
  });

  it('is seeded, independent of batchSize, and a zero map gives ∞ as in Quantus', async () => {
    const explain = (m: ImageClassifier, x: tf.Tensor4D, o?: object) => gradient(m, x, { ...o, normalize: false, channelReduction: 'sum' });
    const a = await maxSensitivity(square, images, explain, { samples: 12, seed: 1, batchSize: 5 });
    const b = await maxSensitivity(square, images, explain, { samples: 12, seed: 1, batchSize: 64 });
    const d = await maxSensitivity(square, images, explain, { samples: 12, seed: 2 });
    expect(b.scores).toEqual(a.scores);
    expect(d.scores).not.toEqual(a.scores);
    // 0/0 for every sample → NaN (np.nanmax of all-NaN); a zero map at x but not at x + δ → ∞
    const first = tf.slice(images, [0, 0, 0, 0], [1, -1, -1, -1]);
    const zero = (_m: ImageClassifier, v: tf.Tensor4D) => Promise.resolve(tf.zeros([v.shape[0], h, w]) as tf.Tensor3D);
    expect((await maxSensitivity(square, first, zero, { samples: 3 })).scores).toEqual([Number.NaN]);
    const x00 = first.dataSync()[0]!;
    const offset = (_m: ImageClassifier, v: tf.Tensor4D) =>
      Promise.resolve(tf.tidy(() => tf.mul(tf.ones([v.shape[0], h, w]), tf.reshape(tf.sub(tf.slice(v, [0, 0, 0, 0], [-1, 1, 1, 1]), x00), [-1, 1, 1]))) as tf.Tensor3D);
    expect((await maxSensitivity(square, first, offset, { samples: 3 })).scores).toEqual([Number.POSITIVE_INFINITY]);
    first.dispose();
  });

  it('checks its options and the interpreter output', async () => {
    await expect(maxSensitivity(square, images, createGradient(), { samples: 0 })).rejects.toThrow(/samples must be a positive integer/);
    await expect(maxSensitivity(square, images, createGradient(), { radius: -1 })).rejects.toThrow(ConfigError);
    const wrong = () => Promise.resolve(tf.zeros([1, h, w]) as tf.Tensor3D);
    await expect(maxSensitivity(square, images, wrong)).rejects.toThrow(/\[2,H,W\] maps for \[2,3,4,2\] images, got \[1,3,4\]/);
  });
});
