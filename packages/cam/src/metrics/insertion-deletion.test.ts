import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, UnknownNameError, type ImageClassifier } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearGapClassifier, sumClassifier } from '../testing/tiny-classifiers';
import { blurWeights1d, gaussianBlur } from './blur';
import { insertionDeletion, trapezoidAuc } from './insertion-deletion';
import { saliencyRanks } from './saliency-order';

beforeAll(useCpuBackend);

describe('insertion/deletion on a model whose score is the sum of the pixels (torch-cam cases)', () => {
  const model = sumClassifier(2, 2);
  const x = tf.tensor4d([0.4, 0.3, 0.2, 0.1], [1, 2, 2, 1]);
  const sal = tf.tensor3d([0.4, 0.3, 0.2, 0.1], [1, 2, 2]);

  it('two pixels per step: deletion [1,0.3,0] AUC 0.4, insertion [0,0.7,1] AUC 0.6', async () => {
    const r = await insertionDeletion(model, x, sal, { stepSize: 2, score: 'logit', blur: false });
    expectClose(r.deletion!.curves[0]!, [1, 0.3, 0], { atol: 1e-6 });
    expectClose(r.insertion!.curves[0]!, [0, 0.7, 1], { atol: 1e-6 });
    expect(r.deletion!.auc[0]).toBeCloseTo(0.4, 6);
    expect(r.insertion!.auc[0]).toBeCloseTo(0.6, 6);
    expect(r.deletion!.fractions).toEqual([0, 0.5, 1]);
    expect(r.protocol.numPoints).toBe(3);
  });

  it('steps that do not divide the image: the last step is partial and still scored', async () => {
    const r = await insertionDeletion(model, x, sal, { stepSize: 3, score: 'logit', blur: false });
    expectClose(r.deletion!.curves[0]!, [1, 0.1, 0], { atol: 1e-6 });
    expectClose(r.insertion!.curves[0]!, [0, 0.9, 1], { atol: 1e-6 });
    expect(r.deletion!.auc[0]).toBeCloseTo(0.3, 6);
    expect(r.insertion!.auc[0]).toBeCloseTo(0.7, 6);
  });

  it('one pixel per step, reversed saliency and a non-zero baseline', async () => {
    const reversed = tf.tensor3d([0.1, 0.2, 0.3, 0.4], [1, 2, 2]);
    const r = await insertionDeletion(model, x, reversed, { stepSize: 1, score: 'logit', blur: false, baseline: 0.5 });
    expectClose(r.deletion!.curves[0]!, [1, 1.4, 1.7, 1.9, 2], { atol: 1e-6 });
    expectClose(r.insertion!.curves[0]!, [2, 1.6, 1.3, 1.1, 1], { atol: 1e-6 });
    expect(r.deletion!.auc[0]).toBeCloseTo(trapezoidAuc([1, 1.4, 1.7, 1.9, 2], 0.25), 6);
  });

  it('lico-reproduction preset: floor(HW/step)+1 points, dx = 1/n, targets required', async () => {
    const m = sumClassifier(3, 3);
    const img = tf.tensor4d([9, 8, 7, 6, 5, 4, 3, 2, 1], [1, 3, 3, 1]);
    const s = tf.tensor3d([9, 8, 7, 6, 5, 4, 3, 2, 1], [1, 3, 3]);
    await expect(insertionDeletion(m, img, s, { preset: 'lico-reproduction' })).rejects.toThrow(ConfigError);
    const r = await insertionDeletion(m, img, s, { preset: 'lico-reproduction', targets: [0], stepSize: 4, score: 'logit', blur: false, mode: 'deletion' });
    // 9 pixels, 4 per step: floor(9/4)+1 = 3 points at 0, 4, 8 pixels deleted (the 9th never).
    expectClose(r.deletion!.curves[0]!, [45, 15, 1], { atol: 1e-5 });
    expect(r.deletion!.auc[0]).toBeCloseTo(((45 + 15) / 2 + (15 + 1) / 2) / 3, 5);
    expect(r.insertion).toBeUndefined();
    expect(r.protocol).toMatchObject({ preset: 'lico-reproduction', numPoints: 3, aucSpacing: '1/n' });
  });

  it('the default (rise) protocol: stepSize = width, top-1 target, probability score, official blur', async () => {
    const m = linearGapClassifier([[1, -1]], 4, 4);
    const img = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i / 8), [1, 4, 4, 1]);
    const s = tf.tensor3d(Array.from({ length: 16 }, (_, i) => i), [1, 4, 4]);
    const r = await insertionDeletion(m, img, s);
    expect(r.protocol).toMatchObject({ preset: 'rise', stepSize: 4, numPoints: 5, targets: [0], score: 'probability', aucSpacing: '1/(n-1)' });
    expect(r.protocol.blur).toMatchObject({ kernel: 11, sigma: 5, padding: 'zero', weights: 'scipy-dirac' });
    // Deletion removes the brightest row first: probability of class 0 = sigmoid(2·mean).
    const mean = (k: number) => Array.from({ length: 16 }, (_, i) => (i < 16 - 4 * k ? i / 8 : 0)).reduce((a, b) => a + b, 0) / 16;
    const expected = [0, 1, 2, 3, 4].map((k) => 1 / (1 + Math.exp(-2 * mean(k))));
    expectClose(r.deletion!.curves[0]!, expected, { atol: 1e-6 });
    expect(r.insertion!.curves[0]![4]).toBeCloseTo(expected[0]!, 6);
  });
});

describe('batching, leaks and validation', () => {
  const model = linearGapClassifier([[1, -1, 0.5], [0.2, 0.3, -1]], 5, 5);
  const x = tf.randomNormal([3, 5, 5, 2], 0, 1, 'float32', 7) as tf.Tensor4D;
  const sal = tf.randomUniform([3, 5, 5], 0, 1, 'float32', 8) as tf.Tensor3D;

  it('batch results equal per-image results and do not depend on batchSize', async () => {
    const whole = await expectNoLeaks(() => insertionDeletion(model, x, sal, { stepSize: 3, batchSize: 5, targets: [0, 1, 2] }));
    const big = await insertionDeletion(model, x, sal, { stepSize: 3, batchSize: 100, targets: [0, 1, 2] });
    expectClose(whole.insertion!.curves, big.insertion!.curves, { atol: 1e-6 });
    for (let i = 0; i < 3; i++) {
      const one = await insertionDeletion(model, tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]), tf.slice(sal, [i, 0, 0], [1, -1, -1]), { stepSize: 3, targets: [i] });
      expectClose(one.deletion!.curves[0]!, whole.deletion!.curves[i]!, { atol: 1e-6 });
      expectClose(one.insertion!.curves[0]!, whole.insertion!.curves[i]!, { atol: 1e-6 });
    }
    expect(whole.deletion!.meanAuc).toBeCloseTo(whole.deletion!.auc.reduce((a, b) => a + b, 0) / 3, 6);
  });

  it('a step changes every channel of its pixels: logit closed form of a GAP-linear model on 2 channels', async () => {
    // logit_k = Σ_c W[c][k] · mean over pixels of x[·][c]; deletion zeroes the top-ranked pixels of both channels.
    const data = await x.data();
    const ranks = Array.from({ length: 3 }, (_, i) => saliencyRanks(sal.dataSync().subarray(i * 25, (i + 1) * 25)));
    const r = await insertionDeletion(model, x, sal, { stepSize: 4, targets: [0, 1, 2], score: 'logit', mode: 'deletion' });
    const W = [[1, -1, 0.5], [0.2, 0.3, -1]];
    for (let i = 0; i < 3; i++) {
      const expected = Array.from({ length: 8 }, (_, j) => {
        let logit = 0;
        for (let p = 0; p < 25; p++) if (ranks[i]![p]! >= Math.min(4 * j, 25)) for (let c = 0; c < 2; c++) logit += (W[c]![i]! * data[(i * 25 + p) * 2 + c]!) / 25;
        return logit;
      });
      expectClose(r.deletion!.curves[i]!, expected, { atol: 1e-5 });
    }
  });

  it('scores each distinct canvas once, over both curves, and picks each image target from a shared canvas', async () => {
    const rows: number[] = [];
    const counting: ImageClassifier = { ...model, forward: (xs, o) => (rows.push(xs.shape[0]), model.forward(xs, o)) };
    // 25 pixels, 5 per step: 6 points per curve, the last fully changed. Per image the deletion
    // curve's first and the insertion curve's last canvas are the image; all three fully deleted
    // canvases are the same baseline image: 2·3·6 − 3 − 2 = 31 distinct canvases.
    const given = await insertionDeletion(counting, x, sal, { stepSize: 5, batchSize: 8, targets: [0, 1, 2], score: 'logit', baseline: 0.5 });
    expect(rows).toEqual([8, 8, 8, 7]);
    // The shared baseline canvas: logit_k = 0.5 · Σ_c W[c][k], read per image target.
    const W = [[1, -1, 0.5], [0.2, 0.3, -1]];
    for (let i = 0; i < 3; i++) expect(given.deletion!.curves[i]![5]).toBeCloseTo(0.5 * (W[0]![i]! + W[1]![i]!), 5);
    // Without targets, the forward pass that finds them scores the images too: 3 + 28 rows (leak-free).
    rows.length = 0;
    const found = await expectNoLeaks(() => insertionDeletion(counting, x, sal, { stepSize: 5, batchSize: 8, score: 'logit', baseline: 0.5 }));
    expect(rows).toEqual([3, 8, 8, 8, 4]);
    const targets = found.protocol.targets;
    // The same curves as each curve and image alone, in a pass of its own.
    for (let i = 0; i < 3; i++) {
      const xi = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      const si = tf.slice(sal, [i, 0, 0], [1, -1, -1]) as tf.Tensor3D;
      const options = { stepSize: 5, targets: [targets[i]!], score: 'logit', baseline: 0.5 } as const;
      const del = await insertionDeletion(model, xi, si, { ...options, mode: 'deletion' });
      const ins = await insertionDeletion(model, xi, si, { ...options, mode: 'insertion' });
      expectClose(found.deletion!.curves[i]!, del.deletion!.curves[0]!, { atol: 1e-6 });
      expectClose(found.insertion!.curves[i]!, ins.insertion!.curves[0]!, { atol: 1e-6 });
      // Insertion ends on the image itself, deletion starts there: one score.
      expect(found.insertion!.curves[i]![5]).toBe(found.deletion!.curves[i]![0]);
    }
  });

  it('rejects mismatched shapes and unknown names', async () => {
    await expect(insertionDeletion(model, x, tf.zeros([3, 4, 5]) as tf.Tensor3D)).rejects.toThrow(ShapeError);
    await expect(insertionDeletion(model, x, sal, { targets: [0] })).rejects.toThrow(/1 targets for a batch of 3/);
    await expect(insertionDeletion(model, x, sal, { preset: 'nope' as 'rise' })).rejects.toThrow(UnknownNameError);
    await expect(insertionDeletion(model, x, sal, { stepSize: 0 })).rejects.toThrow(ConfigError);
  });
});

describe('ordering and blur', () => {
  it('pixels go in descending saliency, ties to the higher index first', () => {
    expect(Array.from(saliencyRanks([0.5, 0.9, 0.5, 0.1]))).toEqual([2, 0, 1, 3]);
  });

  it('sampled weights are torchvision\'s normalised Gaussian', () => {
    const w = blurWeights1d({ sigma: 5, kernel: 9 });
    const raw = [-4, -3, -2, -1, 0, 1, 2, 3, 4].map((t) => Math.exp(-0.5 * (t / 5) ** 2));
    const sum = raw.reduce((a, b) => a + b, 0);
    expectClose(Array.from(w), raw.map((v) => v / sum), { atol: 1e-12 });
  });

  it('scipy-dirac weights fold the reflected tails back (mass 1, symmetric, flatter than sampled)', () => {
    const w = blurWeights1d({ sigma: 5, kernel: 11, weights: 'scipy-dirac' });
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let i = 0; i < 11; i++) expect(w[i]).toBeCloseTo(w[10 - i]!, 12);
    const sampled = blurWeights1d({ sigma: 5, kernel: 11 });
    expect(w[5]! / w[0]!).toBeLessThan(sampled[5]! / sampled[0]!);
  });

  it('blur keeps a constant image constant (reflect) and darkens its border (zero padding)', () => {
    const ones = tf.ones([1, 6, 6, 2]) as tf.Tensor4D;
    expectClose(gaussianBlur(ones, { sigma: 2, kernel: 5, padding: 'reflect' }), tf.ones([1, 6, 6, 2]), { atol: 1e-6 });
    const zero = gaussianBlur(ones, { sigma: 2, kernel: 5, padding: 'zero' }).dataSync();
    expect(zero[0]).toBeLessThan(0.7);
  });
});
