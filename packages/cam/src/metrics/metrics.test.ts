import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCam } from '../interpreters/grad-cam';
import { linearGapClassifier, sequentialClassifier } from '../testing/tiny-classifiers';
import { averageDropIncrease } from './average-drop';
import { cascadingRandomization, defaultRandomizationGroups, mapSimilarity } from './cascading-randomization';
import { ssim } from './ssim';
import { energyInMask, pointingGame } from './localization';
import { relevanceMassAccuracy, relevanceRankAccuracy } from './relevance-accuracy';
import { giniIndex, sparseness } from './sparseness';
import { averageRanks, spearman } from './spearman';

beforeAll(useCpuBackend);

describe('average drop and increase in confidence', () => {
  it('matches the closed form on a linear GAP classifier', async () => {
    // 1 channel, 2 classes, logits = [mean, −mean]: P(0) = sigmoid(2·mean).
    const model = linearGapClassifier([[1, -1]], 2, 2);
    const x = tf.tensor4d([1, 2, 3, 4, -1, -1, -1, -1], [2, 2, 2, 1]);
    const sal = tf.tensor3d([1, 0, 0.5, 0, 0, 0, 0, 0], [2, 2, 2]);
    const r = await expectNoLeaks(() => averageDropIncrease(model, x, sal, { targets: [0, 0] }));
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const y = [sig(2 * 2.5), sig(-2)];
    const o = [sig(2 * ((1 + 1.5) / 4)), sig(0)];
    expectClose(r.originalScores, y, { atol: 1e-6 });
    expectClose(r.explanationScores, o, { atol: 1e-6 });
    expectClose(r.drops, [(y[0]! - o[0]!) / y[0]!, 0], { atol: 1e-6 });
    expect(r.increased).toEqual([false, true]);
    expect(r.averageDrop).toBeCloseTo((y[0]! - o[0]!) / y[0]! / 2, 6);
    expect(r.increaseInConfidence).toBe(0.5);
  });
});

describe('pointing game and energy', () => {
  const sal = tf.tensor3d([0, 1, 0.2, 0, /**/ 0.9, 0, 0, 0, /**/ 0, 0, 0, 0], [3, 2, 2]);
  const masks = tf.tensor3d([0, 1, 1, 0, /**/ 0, 0, 0, 1, /**/ 0, 0, 0, 0], [3, 2, 2]);

  it('pointing game: hit, miss, empty mask; tolerance', async () => {
    const r = await pointingGame(sal, masks);
    expect(r.hits).toEqual([true, false, null]);
    expect(r.accuracy).toBe(0.5);
    expect((await pointingGame(sal, masks, { tolerance: 1 })).hits).toEqual([true, true, null]);
  });

  it('energy inside the mask', async () => {
    const r = await energyInMask(sal, masks);
    expect(r.energy[0]).toBeCloseTo(1.2 / 1.2, 6);
    expect(r.energy[1]).toBe(0);
    expect(r.energy[2]).toBeNaN();
    expect(r.mean).toBeCloseTo(0.5, 6);
    const zero = await energyInMask(tf.zeros([1, 2, 2]) as tf.Tensor3D, tf.ones([1, 2, 2]) as tf.Tensor3D);
    expect(zero.energy[0]).toBeNaN();
  });

  it('rejects mismatched shapes', async () => {
    await expect(pointingGame(sal, tf.zeros([3, 2, 3]) as tf.Tensor3D)).rejects.toThrow(ShapeError);
    await expect(pointingGame(sal, masks, { tolerance: -1 })).rejects.toThrow(ConfigError);
  });
});

describe('Spearman', () => {
  it('average ranks for ties, as scipy.stats.rankdata', () => {
    expect(Array.from(averageRanks([10, 20, 10, 30]))).toEqual([1.5, 3, 1.5, 4]);
  });
  it('monotone maps correlate 1, reversed −1, a known case', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 35, 100])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks [1,2,3,4,5] vs [2,1,4,3,5]: 1 − 6·Σd²/(n(n²−1)) = 1 − 6·4/120 = 0.8
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
  });
});

describe('cascading randomisation', () => {
  function model() {
    const conv = tf.variable(tf.tensor4d([0.5, -0.2, 0.3, 0.8, 0.1, -0.4, 0.6, 0.2, -0.3, 0.7, 0.4, -0.1], [1, 1, 2, 6]), true);
    const dense = tf.variable(tf.tensor2d([1, -1, 0.5, 0.2, -0.7, 0.9, 0.3, 0.3, -0.5, 1.2, 0.8, -0.6], [6, 2]), true);
    const bias = tf.variable(tf.tensor1d([0.1, -0.1]), true);
    return sequentialClassifier({
      name: 'randomisable',
      inputShape: [6, 6, 2],
      numClasses: 2,
      stages: [{ name: 'conv', apply: (x) => tf.relu(tf.conv2d(x, conv, 1, 'same')) }],
      head: (f) => tf.add(tf.matMul(tf.mean(f, [1, 2]) as tf.Tensor2D, dense), bias) as tf.Tensor2D,
      variables: { 'conv/kernel': conv, 'head/kernel': dense, 'head/bias': bias },
    });
  }

  it('groups output side first, decorrelates Grad-CAM, restores the weights, no leaks', async () => {
    const m = model();
    expect(defaultRandomizationGroups(m)).toEqual([
      { group: 'head', variables: ['head/kernel', 'head/bias'] },
      { group: 'conv', variables: ['conv/kernel'] },
    ]);
    const x = tf.randomUniform([2, 6, 6, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const before = await gradCam(m, x, { targets: [0, 1] });
    const r = await expectNoLeaks(() => cascadingRandomization(m, x, gradCam, { seed: 4, targets: [0, 1] }));
    expect(r.steps.map((s) => s.group)).toEqual(['head', 'conv']);
    expect(r.steps[1]!.correlations).toHaveLength(2);
    for (const s of r.steps) for (const c of s.correlations) expect(Math.abs(c)).toBeLessThanOrEqual(1);
    expect(r.steps[1]!.meanCorrelation).toBeLessThan(0.9);
    // SSIM and mean absolute difference per step, against the original and against the step before
    for (const s of r.steps) {
      expect(s.ssim).toHaveLength(2);
      for (const v of [...s.ssim, ...s.versusPrevious.ssim]) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      for (const v of [...s.absoluteDifferences, ...s.versusPrevious.absoluteDifferences]) expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(r.steps[1]!.meanSsim).toBeLessThan(0.9);
    expect(r.steps[1]!.meanAbsoluteDifference).toBeGreaterThan(0.01);
    // the first step's "before" is the original
    const { group: _g, variables: _v, versusPrevious, ...first } = r.steps[0]!;
    expect(versusPrevious).toEqual(first);
    expectClose(await gradCam(m, x, { targets: [0, 1] }), before, { atol: 0 });
    const again = await cascadingRandomization(m, x, gradCam, { seed: 4, targets: [0, 1] });
    expect(again.steps[1]!.correlations).toEqual(r.steps[1]!.correlations);
  });

  it('an interpreter that ignores the weights keeps correlation 1 (the test can fail)', async () => {
    const m = model();
    const x = tf.randomUniform([1, 6, 6, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const fixed = async (_m: unknown, images: tf.Tensor4D) => tf.tidy(() => tf.mean(images, 3) as tf.Tensor3D);
    const r = await cascadingRandomization(m, x, fixed, { targets: [0], groups: [['head/bias'], ['conv/kernel']] });
    expect(r.steps.map((s) => s.meanCorrelation)).toEqual([1, 1]);
    expect(r.steps.map((s) => [s.meanSsim, s.meanAbsoluteDifference, s.versusPrevious.meanSsim, s.versusPrevious.meanAbsoluteDifference])).toEqual([
      [1, 0, 1, 0],
      [1, 0, 1, 0],
    ]);
    await expect(cascadingRandomization(m, x, fixed, { groups: [['nope']] })).rejects.toThrow(/nope/);
  });
});

describe('map similarity (Spearman, SSIM, mean absolute difference per image)', () => {
  it('closed forms on two 3×3 image pairs', () => {
    const a = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
    const b = Float32Array.from([8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
    const r = mapSimilarity(a, b, 2, 3, 3);
    expect(r.correlations[0]).toBeCloseTo(-1, 12);
    expect(r.correlations[1]).toBeCloseTo(1, 12);
    expect(r.absoluteDifferences[0]).toBeCloseTo((8 + 6 + 4 + 2 + 0 + 2 + 4 + 6 + 8) / 9, 6);
    expect(r.absoluteDifferences[1]).toBe(0);
    expect(r.ssim[0]).toBeCloseTo(ssim(a.subarray(0, 9), b.subarray(0, 9), 3, 3), 12);
    expect(r.ssim[1]).toBeCloseTo(1, 12);
    expect(r.meanCorrelation).toBeCloseTo(0, 12);
    expect(r.meanAbsoluteDifference).toBeCloseTo(40 / 18, 6);
  });
});

describe('sparseness (Quantus Sparseness: Gini index of |a|)', () => {
  it('closed forms: one-hot 1 − 1/n, constant 0, [0,0,1,1] 0.5, [1,2,3,4] 0.25', () => {
    expect(giniIndex([0, 0, 0, 0, 1, 0, 0, 0, 0])).toBeCloseTo(1 - 1 / 9, 12);
    expect(giniIndex([3, 3, 3, 3])).toBeCloseTo(0, 12);
    expect(giniIndex([1, 0, 1, 0])).toBeCloseTo(0.5, 12);
    expect(giniIndex([4, 1, 3, 2])).toBeCloseTo(0.25, 12);
  });

  it('per image on maps: one-hot → 1 − 1/n (up to the 1e-7 offset), constant and all-zero → 0, sign and scale ignored', async () => {
    const maps = tf.tensor3d([0, 0, 0, 0, -5, 0, 0, 0, 0, /**/ 2, 2, 2, 2, 2, 2, 2, 2, 2, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0, /**/ 4, -1, 3, 2, 0, 0, 0, 0, 0], [4, 3, 3]);
    const r = await expectNoLeaks(() => sparseness(maps));
    // a/max + 1e-7: one-hot gives (1 − 1/n)/(1 + n·1e-7).
    expect(r.scores[0]).toBeCloseTo((1 - 1 / 9) / (1 + 9e-7), 10);
    expect(r.scores[1]).toBeCloseTo(0, 10);
    expect(r.scores[2]).toBeCloseTo(0, 10);
    expect(r.scores[3]).toBeCloseTo(giniIndex([4, 1, 3, 2, 0, 0, 0, 0, 0]), 5);
    expect(r.mean).toBeCloseTo(r.scores.reduce((a, b) => a + b, 0) / 4, 12);
    // [N,H,W,C] attributions count every value.
    const attr = await sparseness(tf.tensor4d([1, 0, 0, 0, 0, 0, 0, 0], [1, 2, 2, 2]));
    expect(attr.scores[0]).toBeCloseTo(1 - 1 / 8, 5);
  });

  it('rejects bad shapes and non-finite maps', async () => {
    await expect(sparseness(tf.zeros([4, 4]))).rejects.toThrow(ShapeError);
    await expect(sparseness(tf.zeros([4, 4]))).rejects.toThrow(/\[N,H,W\] or \[N,H,W,C\], got \[4,4\]/);
    await expect(sparseness(tf.div(tf.zeros([1, 2, 2]), 0))).rejects.toThrow(/non-finite/);
  });
});

describe('relevance mass and rank accuracy (Quantus, binary masks)', () => {
  const masks = tf.tensor3d([1, 0, 1, 0, /**/ 0, 0, 1, 1, /**/ 0, 0, 0, 0], [3, 2, 2]);

  it('mass: a map inside the mask scores 1; Σ_in|a| / Σ|a| otherwise; empty mask NaN', async () => {
    const sal = tf.tensor3d([0.5, 0, 2, 0, /**/ 0.5, -0.5, 1, 0, /**/ 1, 1, 1, 1], [3, 2, 2]);
    const r = await expectNoLeaks(() => relevanceMassAccuracy(sal, masks));
    expect(r.scores[0]).toBe(1);
    expect(r.scores[1]).toBeCloseTo(1 / 2, 12);
    expect(r.scores[2]).toBeNaN();
    expect(r.mean).toBeCloseTo(0.75, 12);
    expect((await relevanceMassAccuracy(tf.zeros([3, 2, 2]) as tf.Tensor3D, masks)).scores[0]).toBeNaN();
  });

  it('rank: share of the K top-|a| pixels inside a mask of K pixels; ties to the higher flat index', async () => {
    const sal = tf.tensor3d([0.9, 0.1, 0.8, 0.7, /**/ 3, -4, 1, 0, /**/ 1, 1, 1, 1], [3, 2, 2]);
    const r = await expectNoLeaks(() => relevanceRankAccuracy(sal, masks));
    expect(r.scores[0]).toBe(1); // top 2 = {0, 2}, the mask
    expect(r.scores[1]).toBe(0); // top 2 by |a| = {1, 0}, the mask is {2, 3}
    expect(r.scores[2]).toBeNaN();
    const flat = tf.ones([2, 2, 2]) as tf.Tensor3D;
    const ties = await relevanceRankAccuracy(flat, tf.tensor3d([0, 0, 1, 1, /**/ 1, 1, 0, 0], [2, 2, 2]));
    expect(ties.scores).toEqual([1, 0]);
  });

  it('reject non-binary masks and mismatched shapes with the offending value or shapes', async () => {
    const sal = tf.ones([3, 2, 2]) as tf.Tensor3D;
    await expect(relevanceMassAccuracy(sal, tf.mul(tf.ones([3, 2, 2]), 0.5) as tf.Tensor3D)).rejects.toThrow(ConfigError);
    await expect(relevanceRankAccuracy(sal, tf.mul(tf.ones([3, 2, 2]), 0.5) as tf.Tensor3D)).rejects.toThrow(/binary \(0 or 1\), got 0.5 at flat index 0/);
    await expect(relevanceMassAccuracy(sal, tf.zeros([3, 2, 3]) as tf.Tensor3D)).rejects.toThrow(/saliency \[3,2,2\], got \[3,2,3\]/);
    await expect(relevanceRankAccuracy(sal, tf.zeros([3, 2, 3]) as tf.Tensor3D)).rejects.toThrow(ShapeError);
  });
});
