/**
 * Closed forms for the input-space methods (vanilla gradient, Integrated Gradients, SmoothGrad,
 * Occlusion) on models whose gradients are known: a model linear in the pixels, `Σ x²` and `Σ tanh x`.
 * Beside the parity with Captum itself (`captum-quantus-parity.test.ts`, on a ResNet-18), these closed forms
 * pin the definitions down exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, UnknownNameError } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { pixelLinearClassifier, pointwiseSumClassifier } from '../testing/tiny-classifiers';
import { gradient } from './gradient';
import { gaussLegendre, integratedGradients, integratedGradientsAttributions, integrationPoints, type CompletenessReport, type IntegrationMethod } from './integrated-gradients';
import { occlusion, occlusionStarts } from './occlusion';
import { smoothGrad } from './smooth-grad';

beforeAll(useCpuBackend);

// 2×2 images with 2 channels (NHWC flat index p = (y·2 + x)·2 + c), 2 classes.
const H = 2;
const W = 2;
const C = 2;
const WEIGHTS = [
  [0.5, -2, 1, 0.25, -1.5, 3, 0, -0.75],
  [-1, 1, 2, -0.5, 0.1, -0.2, 4, 1],
];
const X = [
  [0.2, -1, 1.5, 0.3, 2, -0.4, 0.9, 1.1],
  [-0.6, 0.8, 0.1, -1.2, 0.7, 0.5, -0.3, 2.5],
];
const images = () => tf.tensor4d(X.flat(), [2, H, W, C]);
const perPixel = (values: number[], reduce: (a: number, b: number) => number) =>
  Array.from({ length: H * W }, (_, p) => reduce(values[2 * p]!, values[2 * p + 1]!));
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const RAW = { normalize: false } as const;

describe('vanilla gradient', () => {
  it('of a model linear in the pixels is |w| of the target, max over channels (or summed)', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const targets = [0, 1];
    const max = await gradient(model, images(), { targets, ...RAW });
    expect(max.shape).toEqual([2, H, W]);
    expectClose(max, targets.flatMap((t) => perPixel(WEIGHTS[t]!.map(Math.abs), Math.max)), { atol: 1e-6 });
    const sum = await gradient(model, images(), { targets, channelReduction: 'sum', ...RAW });
    expectClose(sum, targets.flatMap((t) => perPixel(WEIGHTS[t]!.map(Math.abs), (a, b) => a + b)), { atol: 1e-6 });
  });

  it("with score 'probability' is |p_t (w_t − Σ_k p_k w_k)|", async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const expected = X.flatMap((x, i) => {
      const t = 1 - i;
      const z = WEIGHTS.map((w) => dot(w, x));
      const e = z.map(Math.exp);
      const p = e.map((v) => v / (e[0]! + e[1]!));
      const g = WEIGHTS[t]!.map((wt, j) => p[t]! * (wt - (p[0]! * WEIGHTS[0]![j]! + p[1]! * WEIGHTS[1]![j]!)));
      return perPixel(g.map(Math.abs), Math.max);
    });
    expectClose(await gradient(model, images(), { targets: [1, 0], score: 'probability', ...RAW }), expected, { atol: 1e-6, rtol: 1e-5 });
  });

  it('of Σx² is |2x| (max over channels), min–max normalised by default', async () => {
    const model = pointwiseSumClassifier((x) => tf.square(x), H, W, C);
    const raw = perPixel(X[0]!.map((v) => Math.abs(2 * v)), Math.max);
    const min = Math.min(...raw);
    const max = Math.max(...raw.map((v) => v - min));
    const x = tf.tensor4d(X[0]!, [1, H, W, C]);
    expectClose(await gradient(model, x), raw.map((v) => (v - min) / (max + 1e-7)), { atol: 1e-6 });
  });

  it('rejects bad options with named errors, leaks nothing', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    await expect(gradient(model, images(), { channelReduction: 'median' as never })).rejects.toThrow(UnknownNameError);
    await expect(gradient(model, images(), { channelReduction: 'median' as never })).rejects.toThrow(/median.*'max', 'sum', 'mean'/);
    await expect(gradient(model, tf.zeros([1, 3, 2, 2]) as tf.Tensor4D)).rejects.toThrow(/\[1,3,2,2\]/);
    await expect(gradient(model, images(), { score: 'softmax' as never })).rejects.toThrow(UnknownNameError);
    const x = images();
    await expectNoLeaks(() => gradient(model, x, { targets: [0, 1] }).then((t) => t.dispose()));
  });
});

describe('Integrated Gradients', () => {
  it('Gauss–Legendre points on [0,1]: n=3 is 1/2 ∓ √(3/5)/2, 1/2 with weights 5/18, 8/18, 5/18; n=50 integrates α^99 exactly', () => {
    const { alphas, weights } = gaussLegendre(3);
    expectClose(alphas, [0.5 - Math.sqrt(0.6) / 2, 0.5, 0.5 + Math.sqrt(0.6) / 2], { atol: 1e-14 });
    expectClose(weights, [5 / 18, 8 / 18, 5 / 18], { atol: 1e-14 });
    const g50 = gaussLegendre(50);
    expect(g50.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 13);
    expect(g50.alphas.reduce((s, a, k) => s + g50.weights[k]! * a ** 99, 0)).toBeCloseTo(1 / 100, 13);
    expect(g50.alphas.every((a, k) => k === 0 || a > g50.alphas[k - 1]!)).toBe(true);
  });

  it("Captum's Riemann rules: right k/n, left (k−1)/n, middle (k−½)/n, trapezoid linspace(0,1,n) with weights summing to 1 − 1/n", () => {
    expectClose(integrationPoints('riemann-right', 4).alphas, [0.25, 0.5, 0.75, 1], { atol: 1e-15 });
    expectClose(integrationPoints('riemann-left', 4).alphas, [0, 0.25, 0.5, 0.75], { atol: 1e-15 });
    expectClose(integrationPoints('riemann-middle', 4).alphas, [0.125, 0.375, 0.625, 0.875], { atol: 1e-15 });
    const trap = integrationPoints('riemann-trapezoid', 5);
    expectClose(trap.alphas, [0, 0.25, 0.5, 0.75, 1], { atol: 1e-15 });
    expectClose(trap.weights, [0.1, 0.2, 0.2, 0.2, 0.1], { atol: 1e-15 });
  });

  it('of a linear model equals (x − baseline) ⊙ w for every rule and baseline form, completeness error 0', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C, [0.3, -0.2]);
    const targets = [1, 0];
    const baselines: [string, number | tf.Tensor, (i: number, j: number) => number][] = [
      ['0', 0, () => 0],
      ['0.5', 0.5, () => 0.5],
      ['[H,W,C]', tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8].map((v) => v / 10), [H, W, C]), (_i, j) => (j + 1) / 10],
      ['[N,H,W,C]', tf.tensor4d(X.flat().map((v) => -v / 2), [2, H, W, C]), (i, j) => -X[i]![j]! / 2],
    ];
    for (const method of ['gauss-legendre', 'riemann-right', 'riemann-middle'] as IntegrationMethod[]) {
      for (const [, baseline, b] of baselines) {
        const { attributions, completeness } = await integratedGradientsAttributions(model, images(), { targets, baseline, method, steps: 7 });
        expect(attributions.shape).toEqual([2, H, W, C]);
        expectClose(attributions, X.flatMap((x, i) => x.map((v, j) => (v - b(i, j)) * WEIGHTS[targets[i]!]![j]!)), { atol: 1e-5 });
        expectClose(completeness.errors, [0, 0], { atol: 1e-5 });
        const df = X.map((x, i) => dot(WEIGHTS[targets[i]!]!, x.map((v, j) => v - b(i, j))));
        expectClose(completeness.scoreDifferences, df, { atol: 1e-5 });
        attributions.dispose();
      }
    }
  });

  it("Captum's trapezoid rule under-integrates a linear model by exactly 1/n: error = −(f(x) − f(x'))/n", async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    for (const steps of [4, 10]) {
      const { attributions, completeness } = await integratedGradientsAttributions(model, images(), { targets: [0, 1], method: 'riemann-trapezoid', steps });
      expectClose(completeness.errors, completeness.scoreDifferences.map((d) => -d / steps), { atol: 1e-5 });
      attributions.dispose();
    }
  });

  it('of Σx² from 0: Riemann-right error is exactly Σx²/n (shrinks as 1/n), left −Σx²/n; Gauss–Legendre exact', async () => {
    const model = pointwiseSumClassifier((x) => tf.square(x), H, W, C);
    const x = tf.tensor4d(X[0]!, [1, H, W, C]);
    const sq = X[0]!.reduce((s, v) => s + v * v, 0);
    const errors: number[] = [];
    for (const steps of [4, 16, 64]) {
      const right = await integratedGradientsAttributions(model, x, { method: 'riemann-right', steps });
      expect(right.completeness.errors[0]!).toBeCloseTo(sq / steps, 4);
      errors.push(right.completeness.errors[0]!);
      const left = await integratedGradientsAttributions(model, x, { method: 'riemann-left', steps });
      expect(left.completeness.errors[0]!).toBeCloseTo(-sq / steps, 4);
      tf.dispose([right.attributions, left.attributions]);
    }
    expect(errors[1]!).toBeLessThan(errors[0]! / 3.9);
    expect(errors[2]!).toBeLessThan(errors[1]! / 3.9);
    const gl = await integratedGradientsAttributions(model, x, { method: 'gauss-legendre', steps: 1 });
    expectClose(gl.attributions, X[0]!.map((v) => v * v), { atol: 1e-5 });
    expect(Math.abs(gl.completeness.errors[0]!)).toBeLessThan(1e-5);
    gl.attributions.dispose();
  });

  it('of Σ tanh x: the completeness error shrinks as steps grow (Gauss–Legendre and Riemann-middle)', async () => {
    const model = pointwiseSumClassifier((x) => tf.tanh(x), H, W, C);
    const x = tf.tensor4d(X[0]!.map((v) => 2 * v), [1, H, W, C]);
    const df = X[0]!.reduce((s, v) => s + Math.tanh(2 * v), 0);
    for (const [method, stepList] of [
      ['gauss-legendre', [2, 4, 8]],
      ['riemann-middle', [4, 16, 64]],
    ] as [IntegrationMethod, number[]][]) {
      const errors: number[] = [];
      for (const steps of stepList) {
        const r = await integratedGradientsAttributions(model, x, { method, steps, baseline: 0 });
        expect(r.completeness.scoreDifferences[0]!).toBeCloseTo(df, 5);
        errors.push(Math.abs(r.completeness.errors[0]!));
        r.attributions.dispose();
      }
      expect(errors[1]!).toBeLessThan(errors[0]! / 2);
      expect(errors[2]!).toBeLessThan(errors[1]! / 2);
      expect(errors[2]!).toBeLessThan(2e-3 * Math.abs(df));
    }
  });

  it('batches the interpolation points: ceil(N·steps/batchSize) gradient passes + 1 for completeness; batchSize does not change the result', async () => {
    const model = pointwiseSumClassifier((x) => tf.tanh(x), H, W, C);
    const x = tf.tensor4d(X.flat(), [2, H, W, C]);
    const before = model.forwardCalls;
    const big = await integratedGradientsAttributions(model, x, { targets: [0, 0], steps: 10, batchSize: 64 });
    expect(model.forwardCalls - before).toBe(2);
    const mid = model.forwardCalls;
    const small = await integratedGradientsAttributions(model, x, { targets: [0, 0], steps: 10, batchSize: 8 });
    expect(model.forwardCalls - mid).toBe(Math.ceil(20 / 8) + 1);
    expectClose(small.attributions, big.attributions, { atol: 1e-6 });
    tf.dispose([small.attributions, big.attributions]);
  });

  it('the interpreter sums over channels, takes |·|, normalises, and reports completeness through onCompleteness', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const reports: CompletenessReport[] = [];
    const raw = await integratedGradients(model, images(), { targets: [0, 1], sign: 'all', ...RAW, onCompleteness: (r) => reports.push(r) });
    expectClose(raw, X.flatMap((x, i) => perPixel(x.map((v, j) => v * WEIGHTS[i]![j]!), (a, b) => a + b)), { atol: 1e-5 });
    expect(reports).toHaveLength(1);
    expectClose(reports[0]!.errors, [0, 0], { atol: 1e-5 });
    const map = await integratedGradients(model, images(), { targets: [0, 1] });
    const abs = Array.from(raw.dataSync()).map(Math.abs);
    const expected = [0, 1].flatMap((i) => {
      const m = abs.slice(4 * i, 4 * i + 4);
      const lo = Math.min(...m);
      const hi = Math.max(...m.map((v) => v - lo));
      return m.map((v) => (v - lo) / (hi + 1e-7));
    });
    expectClose(map, expected, { atol: 1e-5 });
  });

  it('rejects bad baselines, steps and methods with named errors; leaks nothing', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const x = images();
    await expect(integratedGradients(model, x, { baseline: tf.zeros([2, 2]) })).rejects.toThrow(ShapeError);
    await expect(integratedGradients(model, x, { baseline: tf.zeros([2, 2]) })).rejects.toThrow(/baseline must have shape \[2,2,2\], \[1,2,2,2\] or \[2,2,2,2\].*got \[2,2\]/);
    await expect(integratedGradients(model, x, { baseline: Number.NaN })).rejects.toThrow(ConfigError);
    await expect(integratedGradients(model, x, { method: 'simpson' as never })).rejects.toThrow(/Unknown integration method 'simpson'|simpson/);
    await expect(integratedGradients(model, x, { method: 'riemann-right', steps: 1 })).rejects.toThrow(/at least 2/);
    await expect(integratedGradients(model, x, { steps: 0 })).rejects.toThrow(/steps must be a positive integer/);
    await expect(integratedGradients(model, x, { sign: 'negative' as never })).rejects.toThrow(UnknownNameError);
    await expectNoLeaks(() => integratedGradients(model, x, { targets: [0, 1], steps: 5, batchSize: 3, onCompleteness: () => undefined }).then((t) => t.dispose()));
    const baseline = tf.zeros([H, W, C]);
    await expectNoLeaks(async () => {
      const r = await integratedGradientsAttributions(model, x, { baseline, steps: 3 });
      r.attributions.dispose();
    });
  });
});

/** E|Y| for Y ~ N(μ, s²) (the folded normal's mean). */
function foldedNormalMean(mu: number, s: number): number {
  // erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
  const erf = (z: number) => {
    const t = 1 / (1 + 0.3275911 * Math.abs(z));
    const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
    return z >= 0 ? y : -y;
  };
  const phi = (z: number) => 0.5 * (1 + erf(z / Math.SQRT2));
  return s * Math.sqrt(2 / Math.PI) * Math.exp(-(mu * mu) / (2 * s * s)) + mu * (1 - 2 * phi(-mu / s));
}

describe('SmoothGrad', () => {
  it('of a linear model equals the vanilla gradient (any noise)', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    for (const channelReduction of ['max', 'mean'] as const) {
      const expected = await gradient(model, images(), { targets: [0, 1], channelReduction, ...RAW });
      expectClose(await smoothGrad(model, images(), { targets: [0, 1], channelReduction, samples: 7, sigma: 0.3, batchSize: 3, ...RAW }), expected, { atol: 1e-5 });
    }
  });

  it('of Σx² is the mean of |2(x + σε)|: E|N(2x, (2σ)²)| per value, σ = sigma · (max x − min x)', async () => {
    const model = pointwiseSumClassifier((x) => tf.square(x), 2, 2, 1);
    const values = [-1, 0, 0.5, 1];
    const sd = 0.25 * (1 - -1);
    const map = await smoothGrad(model, tf.tensor4d(values, [1, 2, 2, 1]), { samples: 4000, sigma: 0.25, batchSize: 1000, seed: 11, ...RAW });
    // Standard error of a mean of 4000 draws with sd ≤ 2σ = 1: ≤ 0.016; allow 3 of them. The mean
    // of the raw gradient (abs after averaging) would give 2|x|, e.g. 0 instead of 0.80 at x = 0.
    expectClose(map, values.map((v) => foldedNormalMean(2 * v, 2 * sd)), { atol: 0.05 });
    expect(map.dataSync()[1]!).toBeGreaterThan(0.7);
    // sigma 0 is the vanilla gradient |2x|.
    expectClose(await smoothGrad(model, tf.tensor4d(values, [1, 2, 2, 1]), { samples: 3, sigma: 0, ...RAW }), values.map((v) => Math.abs(2 * v)), { atol: 1e-6 });
  });

  it('is seeded and independent of batchSize; another seed gives another map', async () => {
    const model = pointwiseSumClassifier((x) => tf.square(x), H, W, C);
    const x = images();
    const a = await smoothGrad(model, x, { samples: 9, seed: 1, batchSize: 4 });
    const b = await smoothGrad(model, x, { samples: 9, seed: 1, batchSize: 64 });
    const c = await smoothGrad(model, x, { samples: 9, seed: 2 });
    expectClose(a, b, { atol: 1e-6 });
    expect(Math.max(...tf.abs(tf.sub(a, c)).dataSync())).toBeGreaterThan(1e-3);
  });

  it('rejects bad samples and sigma with named errors; leaks nothing', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const x = images();
    await expect(smoothGrad(model, x, { samples: 0 })).rejects.toThrow(ConfigError);
    await expect(smoothGrad(model, x, { samples: 2.5 })).rejects.toThrow(/samples must be a positive integer, got 2.5/);
    await expect(smoothGrad(model, x, { sigma: -0.1 })).rejects.toThrow(/sigma must be >= 0/);
    await expect(smoothGrad(model, x, { sigma: Number.POSITIVE_INFINITY })).rejects.toThrow(/sigma must be a finite number/);
    await expectNoLeaks(() => smoothGrad(model, x, { targets: [0, 1], samples: 5, batchSize: 3 }).then((t) => t.dispose()));
  });
});

describe('Occlusion', () => {
  it("window starts as Captum's: ceil((size − window)/stride) + 1, the last one cut at the edge", () => {
    expect(occlusionStarts(32, 8, 4)).toEqual([0, 4, 8, 12, 16, 20, 24]);
    expect(occlusionStarts(5, 2, 2)).toEqual([0, 2, 4]);
    expect(occlusionStarts(3, 3, 1)).toEqual([0]);
  });

  it('of a linear model with a 1×1 window is Σ_c w_c (x_c − baseline)', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C, [1, -1]);
    const map = await occlusion(model, images(), { targets: [1, 0], window: 1, stride: 1, baseline: 0.3, sign: 'all', ...RAW });
    expectClose(map, X.flatMap((x, i) => perPixel(x.map((v, j) => (v - 0.3) * WEIGHTS[1 - i]![j]!), (a, b) => a + b)), { atol: 1e-5 });
  });

  it('averages overlapping windows, and a cut last window covers only what is left (3×3, window 2, stride 2)', async () => {
    // One channel; contribution of pixel p to the logit: u_p = w_p · x_p (baseline 0).
    const w = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((v) => v / 10);
    const x = [1, -1, 2, 0.5, 3, -2, 1, 1, -1];
    const u = w.map((v, p) => v * x[p]!);
    const model = pixelLinearClassifier([w], 3, 3, 1);
    const map = await occlusion(model, tf.tensor4d(x, [1, 3, 3, 1]), { targets: [0], window: 2, stride: 2, sign: 'all', ...RAW });
    // Windows start at 0 and 2 on each axis: {0,1}×{0,1}, {0,1}×{2}, {2}×{0,1}, {2}×{2}; no overlap.
    const A = u[0]! + u[1]! + u[3]! + u[4]!;
    const B = u[2]! + u[5]!;
    const Cc = u[6]! + u[7]!;
    expectClose(map, [A, A, B, A, A, B, Cc, Cc, u[8]!], { atol: 1e-5 });
    // Window 2, stride 1: 4 windows; the centre is covered by all of them, a corner by one.
    const overlap = await occlusion(model, tf.tensor4d(x, [1, 3, 3, 1]), { targets: [0], window: 2, stride: 1, sign: 'all', ...RAW });
    const win = (y: number, xx: number) => u[3 * y + xx]! + u[3 * y + xx + 1]! + u[3 * y + xx + 3]! + u[3 * y + xx + 4]!;
    const all = [win(0, 0), win(0, 1), win(1, 0), win(1, 1)];
    const v = overlap.dataSync();
    expect(v[0]!).toBeCloseTo(all[0]!, 5);
    expect(v[4]!).toBeCloseTo(all.reduce((a, b) => a + b, 0) / 4, 5);
    expect(v[1]!).toBeCloseTo((all[0]! + all[1]!) / 2, 5);
  });

  it('the default 8×8 window and stride 4 are cut to a smaller image (2×2: one window over everything)', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const map = await occlusion(model, images(), { targets: [0, 1], sign: 'all', ...RAW });
    expectClose(map, X.flatMap((x, i) => new Array(H * W).fill(dot(WEIGHTS[i]!, x))), { atol: 1e-5 });
  });

  it('batches the occluded images: ceil(N·positions/batchSize) passes + 1; batchSize does not change the map', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const before = model.forwardCalls;
    const a = await occlusion(model, images(), { targets: [0, 1], window: 1, stride: 1, batchSize: 3 });
    expect(model.forwardCalls - before).toBe(Math.ceil((2 * 4) / 3) + 1);
    const b = await occlusion(model, images(), { targets: [0, 1], window: 1, stride: 1, batchSize: 64 });
    expectClose(a, b, { atol: 1e-6 });
  });

  it('rejects windows and strides that do not fit, with the sizes in the message; leaks nothing', async () => {
    const model = pixelLinearClassifier(WEIGHTS, H, W, C);
    const x = images();
    await expect(occlusion(model, x, { window: 3 })).rejects.toThrow(ConfigError);
    await expect(occlusion(model, x, { window: 3 })).rejects.toThrow(/window 3×3 is larger than the images \[2,2,2,2\]/);
    await expect(occlusion(model, tf.zeros([1, 6, 6, 2]) as tf.Tensor4D, { window: 2, stride: 3 })).rejects.toThrow(/\[1,6,6,2\]/);
    await expect(occlusion(pixelLinearClassifier([new Array(72).fill(1)], 6, 6, 2), tf.zeros([1, 6, 6, 2]) as tf.Tensor4D, { window: 2, stride: 3 })).rejects.toThrow(/stride 3×3 must not exceed window 2×2/);
    await expect(occlusion(model, x, { window: [1] as never })).rejects.toThrow(/window must be a number or \[height, width\]/);
    await expect(occlusion(model, x, { window: 1, baseline: Number.NaN })).rejects.toThrow(/baseline must be a finite number/);
    await expectNoLeaks(() => occlusion(model, x, { targets: [0, 1], window: 1, stride: 1, batchSize: 3 }).then((t) => t.dispose()));
  });
});
