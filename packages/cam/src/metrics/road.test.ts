import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@lico/core';
import { expectClose, expectNoLeaks, loadGolden, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { sumClassifier } from '../testing/tiny-classifiers';
import { linearImputation, noisyLinearImpute, numpyPercentile, road, roadKeepMask, roadPerturb, ROAD_NEIGHBOR_WEIGHTS } from './road';

beforeAll(useCpuBackend);

interface RoadGolden {
  road: { tiny: { image: number[]; mask: number[]; imputed: number[] } };
}
const golden = loadGolden<RoadGolden>(new URL('../__golden__/pytorch-grad-cam.json', import.meta.url));

describe('ROAD linear imputation', () => {
  it("equals pytorch-grad-cam's NoisyLinearImputer (noise 0, scipy spsolve) on the 5×4 golden case within 1e-6", () => {
    const { image, mask, imputed } = golden.road.tiny;
    const ours = linearImputation(image, mask, 5, 4, 1);
    // float64 solve on both sides, float32 results: the difference is float32 rounding (values up to 8).
    expectClose(Array.from(ours), imputed, { atol: 1e-6, rtol: 1e-6 });
    // kept pixels are untouched, bit for bit
    mask.forEach((m, p) => {
      if (m === 1) expect(ours[p]).toBe(Math.fround(image[p]!));
    });
  });

  it('a removed interior pixel is the weighted mean of its 8 neighbours (1/6 edges, 1/12 diagonals); a corner one is normalised by the weights inside', () => {
    const values = Array.from({ length: 16 }, (_, p) => (p * 7) % 5);
    const keep = new Array(16).fill(1);
    keep[5] = 0; // (1,1)
    keep[15] = 0; // (3,3), a corner
    const out = linearImputation(values, keep, 4, 4, 1);
    const at = (r: number, c: number) => values[r * 4 + c]!;
    const interior = ROAD_NEIGHBOR_WEIGHTS.reduce((s, [dr, dc, w]) => s + w * at(1 + dr, 1 + dc), 0);
    expect(out[5]).toBeCloseTo(interior, 6);
    const corner = (at(2, 3) / 6 + at(3, 2) / 6 + at(2, 2) / 12) / (1 / 6 + 1 / 6 + 1 / 12);
    expect(out[15]).toBeCloseTo(corner, 6);
  });

  it('reproduces an affine image on an interior hole exactly (discrete harmonic), per channel', () => {
    const h = 9;
    const w = 8;
    const values: number[] = [];
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) values.push(0.5 * r - 0.25 * c + 1, -2 * r + 3 * c);
    const keep = Array.from({ length: h * w }, (_, p) => (Math.floor(p / w) >= 2 && Math.floor(p / w) <= 6 && p % w >= 2 && p % w <= 5 ? 0 : 1));
    const out = linearImputation(values, keep, h, w, 2);
    expectClose(Array.from(out), values, { atol: 1e-5 });
  });

  it('a region with no kept neighbour is filled with 0 (everything removed → a zero image)', () => {
    const values = Array.from({ length: 12 }, (_, p) => p + 1);
    expect(Array.from(linearImputation(values, new Array(12).fill(0), 3, 4, 1))).toEqual(new Array(12).fill(0));
    // an isolated removed block in a kept image still gets the harmonic fill; only floating parts are 0
    const keep = [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1];
    const out = linearImputation(values, keep, 3, 4, 1);
    expect(out[5]).toBeGreaterThan(1);
    expect(Number.isFinite(out[6]!)).toBe(true);
  });

  it('checks sizes and binary masks', () => {
    expect(() => linearImputation([1, 2, 3], [1, 0, 1, 1], 2, 2, 1)).toThrow(ShapeError);
    expect(() => linearImputation([1, 2, 3, 4], [1, 0.5, 1, 1], 2, 2, 1)).toThrow(/binary.*0.5 at flat index 1/);
  });

  it('noise is seeded, added only to imputed pixels, with the given standard deviation', async () => {
    const image = tf.tidy(() => tf.div(tf.reshape(tf.range(0, 40 * 40 * 2), [40, 40, 2]), 100)) as tf.Tensor3D;
    const keepValues = Array.from({ length: 1600 }, (_, p) => (p % 3 === 0 ? 1 : 0));
    const keep = tf.tensor2d(keepValues, [40, 40]);
    const plain = await expectNoLeaks(() => noisyLinearImpute(image, keep, { noise: 0 }));
    const a = await noisyLinearImpute(image, keep, { noise: 0.5, seed: 3 });
    const b = await noisyLinearImpute(image, keep, { noise: 0.5, seed: 3 });
    const c = await noisyLinearImpute(image, keep, { noise: 0.5, seed: 4 });
    expectClose(a, b, { atol: 0 });
    expect(Math.max(...tf.abs(tf.sub(a, c)).dataSync())).toBeGreaterThan(0.1);
    const diff = tf.sub(a, plain).dataSync();
    const removed: number[] = [];
    keepValues.forEach((k, p) => {
      for (let ch = 0; ch < 2; ch++) {
        if (k === 1) expect(diff[p * 2 + ch]).toBe(0);
        else removed.push(diff[p * 2 + ch]!);
      }
    });
    const sd = Math.sqrt(removed.reduce((s, v) => s + v * v, 0) / removed.length);
    expect(sd).toBeGreaterThan(0.47);
    expect(sd).toBeLessThan(0.53);
    await expect(noisyLinearImpute(image, keep, { noise: -1 })).rejects.toThrow(ConfigError);
    await expect(noisyLinearImpute(image, tf.ones([40, 39]) as tf.Tensor2D)).rejects.toThrow(/\[40,40\].*\[40,39\]/);
    tf.dispose([image, keep, plain, a, b, c]);
  });
});

describe('ROAD percentiles and masks', () => {
  it("numpyPercentile equals numpy's linear percentile (float32)", () => {
    expect(numpyPercentile([1, 2, 3, 4], 30)).toBe(Math.fround(1.9));
    expect(numpyPercentile([1, 2, 3, 4], 90)).toBe(Math.fround(3.7));
    const b = [0.3, 0.1, 0.7, 0.7, 0.2, 0.9, 0.05].map(Math.fround);
    // numpy 2.4: np.percentile(float32 array, p) for p = 10, 25, 50, 80, 100, 0
    const expected = [0.07999999821186066, 0.15000000596046448, 0.30000001192092896, 0.699999988079071, 0.8999999761581421, 0.05000000074505806];
    [10, 25, 50, 80, 100, 0].forEach((p, i) => expect(numpyPercentile(b, p)).toBeCloseTo(expected[i]!, 7));
  });

  it('morf keeps s < percentile(s), lerf keeps 1 − s < percentile(1 − s): both remove the top/bottom (100 − p) %', () => {
    const s = Array.from({ length: 10 }, (_, i) => i / 10);
    expect(Array.from(roadKeepMask(s, 70, 'morf'))).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(roadKeepMask(s, 70, 'lerf'))).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
    // ties at the threshold are removed (strict <): a map that is 0 on ≥ p % of the pixels removes everything in morf
    expect(Array.from(roadKeepMask([0, 0, 0, 0.5], 20, 'morf'))).toEqual([0, 0, 0, 0]);
  });
});

describe('ROAD metric (closed forms on the sum classifier)', () => {
  // logit = Σ pixels: ROAD's change is Σ(imputed − image), computable from roadPerturb.
  const model = sumClassifier(6, 6, 2);
  const images = tf.tidy(() => tf.add(tf.randomUniform([2, 6, 6, 2], 0, 1, 'float32', 7), tf.div(tf.reshape(tf.range(0, 72), [1, 6, 6, 2]), 40))) as tf.Tensor4D;
  const saliency = tf.randomUniform([2, 6, 6], 0, 1, 'float32', 8) as tf.Tensor3D;

  it('morf/lerf per percentile are the target logit changes on the imputed images; averages; combined = (lerf − morf)/2', async () => {
    const percentiles = [20, 50, 80];
    const r = await expectNoLeaks(() => road(model, images, saliency, { percentiles, noise: 0, targets: [0, 0] }));
    const base = tf.sum(images, [1, 2, 3]).dataSync();
    for (const [k, p] of percentiles.entries()) {
      for (const order of ['morf', 'lerf'] as const) {
        const imputed = await roadPerturb(images, saliency, { percentile: p, order, noise: 0 });
        const sums = tf.sum(imputed, [1, 2, 3]).dataSync();
        for (let i = 0; i < 2; i++) expect(r[order][k]![i]).toBeCloseTo(sums[i]! - base[i]!, 3);
        imputed.dispose();
      }
    }
    for (let i = 0; i < 2; i++) {
      expect(r.morfAverage[i]).toBeCloseTo((r.morf[0]![i]! + r.morf[1]![i]! + r.morf[2]![i]!) / 3, 6);
      expect(r.lerfAverage[i]).toBeCloseTo((r.lerf[0]![i]! + r.lerf[1]![i]! + r.lerf[2]![i]!) / 3, 6);
      expect(r.combined[i]).toBeCloseTo((r.lerfAverage[i]! - r.morfAverage[i]!) / 2, 6);
    }
    expect(r.mean.combined).toBeCloseTo((r.combined[0]! + r.combined[1]!) / 2, 6);
    expect(r.percentiles).toEqual(percentiles);
  });

  it('a constant image is imputed to itself, so every change is 0 unless everything is removed', async () => {
    const flat = tf.mul(tf.ones([1, 6, 6, 2]), 0.3) as tf.Tensor4D;
    const r = await road(model, flat, tf.slice(saliency, [0, 0, 0], [1, -1, -1]), { percentiles: [30, 60], noise: 0 });
    for (const row of [...r.morf, ...r.lerf]) expect(Math.abs(row[0]!)).toBeLessThan(1e-4);
    flat.dispose();
  });

  it('batchSize does not change the result; the noise is seeded', async () => {
    const a = await road(model, images, saliency, { percentiles: [40, 70], batchSize: 1, seed: 2 });
    const b = await road(model, images, saliency, { percentiles: [40, 70], batchSize: 64, seed: 2 });
    const c = await road(model, images, saliency, { percentiles: [40, 70], batchSize: 3, seed: 5 });
    expect(b.morf).toEqual(a.morf);
    expect(b.lerf).toEqual(a.lerf);
    expect(c.morf).not.toEqual(a.morf);
  });

  it('checks its options', async () => {
    await expect(road(model, images, saliency, { percentiles: [] })).rejects.toThrow(ConfigError);
    await expect(road(model, images, saliency, { percentiles: [120] })).rejects.toThrow(/\[0, 100\]/);
    await expect(road(model, images, saliency, { batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(road(model, images, tf.zeros([2, 6, 5]) as tf.Tensor3D)).rejects.toThrow(/\[2,6,6\].*\[2,6,5\]/);
    await expect(roadPerturb(images, saliency, { percentile: 50, order: 'up' as never })).rejects.toThrow(/'morf' or 'lerf'/);
  });
});
