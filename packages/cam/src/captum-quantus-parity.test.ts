/**
 * Parity with Captum (pytorch/captum) and Quantus (understandable-machine-intelligence-lab/Quantus),
 * commits in the golden's `versions`. Golden: `__golden__/captum-quantus.json` from
 * `tools/reference/cam-captum-quantus.py` (both libraries run from checkouts beside the project).
 *
 * Captum: on the pytorch-grad-cam parity case, the torchvision ResNet-18 with the formula weights
 * (`loadParityResNet`), the 2 formula images, targets 3 and 7; maps compared on every 5th flat value
 * of `[2,64,64]`: the min–max normalised maps (our defaults) by max |Δ|, the raw maps
 * (`normalize: false`) relative to their largest |value|. Quantus: Sparseness,
 * RelevanceMassAccuracy and RelevanceRankAccuracy on the golden's fixed maps and masks, and
 * MaxSensitivity of the vanilla gradient on the same ResNet-18 with the golden's perturbations.
 * Wasm backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadGolden, relativeError } from '@lico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, type ImageClassifier } from '@lico/core';
import { gradient } from './interpreters/gradient';
import { finishAttributionMap, reduceChannels } from './interpreters/input-attribution';
import { integratedGradientsAttributions, type IntegrationMethod } from './interpreters/integrated-gradients';
import { occlusion } from './interpreters/occlusion';
import { smoothGrad } from './interpreters/smooth-grad';
import { maxSensitivity, uniformPerturbation } from './metrics/max-sensitivity';
import { relevanceMassAccuracy, relevanceRankAccuracy } from './metrics/relevance-accuracy';
import { sparseness } from './metrics/sparseness';
import { pointwiseSumClassifier } from './testing/tiny-classifiers';
import { loadParityResNet, parityInput, stridedMaxAbsDiff, type PytorchGradCamGolden } from './testing/pytorch-grad-cam-checks';

interface Golden extends PytorchGradCamGolden {
  versions: Record<string, string>;
  raw: Record<string, number[]>;
  ig: { steps: number; baseline: number; convergence_delta: Record<string, number[]> };
  occlusion: { window: number; stride: number; baseline: number };
  smooth_grad: { samples: number; sigma: number; eps_code_scale: number; eps_int8_base64_shwc: string };
  quantus_localisation: {
    shape: [number, number, number];
    maps: number[];
    masks: number[];
    sparseness: number[];
    relevance_mass_accuracy: (number | null)[];
    relevance_rank_accuracy: (number | null)[];
    relevance_rank_accuracy_ties_higher_index_first: (number | null)[];
  };
  max_sensitivity: { samples: number; radius: number; code_max: number; delta_int8_base64_nshwc: string; scores: number[] };
}
const golden = loadGolden<Golden>(new URL('./__golden__/captum-quantus.json', import.meta.url));
const q = golden.quantus_localisation;

/**
 * Captum: stated tolerances (float32 on both sides, different kernels and summation orders; the golden
 * keeps 7 significant digits), measured on wasm in the comments: normalised maps max |Δ| (maps in
 * [0,1]); raw maps max |Δ| / max |Captum|; convergence delta `Σ attributions − (f(x) − f(0))` max
 * |ours − Captum|, absolute (the deltas are ~1e-4 here, the score differences 2.6e-4 and 1.2e-2).
 */
const CAPTUM_TOLERANCE = {
  gradient: { map: 1e-4, raw: 1e-4 }, // measured 5.0e-7, 4.7e-7
  integratedGradients: { map: 1e-4, raw: 1e-4 }, // measured 1.7e-7, 3.4e-7
  // Riemann-right evaluates the gradient at α = 1/50, where one activation of image 0 sits on a
  // ReLU kink within float32 rounding: which side it falls on depends on the batch norm's rounding
  // (lico folds the running statistics into one multiply-add per element, as PyTorch's CPU kernel
  // does, but without its FMA). Measured per α: at α = 1/50 image 0's Σ x·∂y/∂x moves by 8.3e-5,
  // at the other 49 α by ≤ 2.3e-8; so the delta moves by 8.3e-5 / 50 = 1.7e-6 and the map by 9.5e-5.
  integratedGradientsRiemannRight: { map: 2e-4, raw: 2e-4 }, // measured 9.5e-5, 9.6e-5
  occlusion: { map: 1e-4, raw: 1e-4 }, // measured 1.5e-5, 1.3e-5
  smoothGrad: { map: 1e-4, raw: 1e-4 }, // measured 5.2e-7, 5.1e-7
  convergenceDelta: { integratedGradients: 1e-6, integratedGradientsRiemannRight: 5e-6 }, // measured 5.9e-8, 1.7e-6
};

/**
 * Quantus: stated tolerances (measured in the comments). Sparseness: absolute; Quantus 0.6.0's
 * `normalise_by_max` divides the whole batch by its largest |a| (ours: each map by its own) before
 * the 1e-7 offset — Gini is scale-free, the offset is not — which moves the mostly-zero map 1 by
 * 1.6e-6; the other maps differ only by Quantus' float32 (≤ 4.2e-8). Relevance mass: absolute
 * (float32 there, float64 here). Relevance rank: equal where the K-th and (K+1)-th largest |a| differ
 * (maps 0, 2, 4); at a tie (maps 1, 3) Quantus' order is numpy's unstable introsort of `-a`, so
 * there ours is checked against numpy with our rule (the higher flat index first). MaxSensitivity:
 * relative (float32 gradients on other kernels, then a ratio of norms).
 */
const QUANTUS_TOLERANCE = {
  sparseness: 5e-6, // measured 1.6e-6 (map 1; ≤ 4.2e-8 on the others)
  relevanceMass: 1e-6, // measured 5.3e-8
  maxSensitivity: 1e-4, // measured 1.9e-7
};

/** max |ours − golden| over images, NaN where the golden is null (NaN) must be NaN here too. */
function worstDifference(ours: readonly number[], expected: readonly (number | null)[]): number {
  expect(ours.map(Number.isNaN)).toEqual(expected.map((v) => v === null));
  return Math.max(...ours.map((v, i) => (expected[i] === null ? 0 : Math.abs(v - expected[i]!))));
}

let model: ImageClassifier;
let x: tf.Tensor4D;
beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  model = await loadParityResNet();
  x = parityInput(golden);
});
afterAll(() => {
  model?.dispose();
  x?.dispose();
});

/** The normalised map's max |Δ| and the raw map's relative max |Δ| against the golden's `key`. */
async function compare(key: string, normalized: tf.Tensor3D, raw: tf.Tensor3D): Promise<{ map: number; raw: number }> {
  const expectedRaw = golden.raw[key]!;
  const scale = Math.max(...expectedRaw.map(Math.abs));
  const out = { map: await stridedMaxAbsDiff(normalized, golden.maps[key]!, golden.stride), raw: (await stridedMaxAbsDiff(raw, expectedRaw, golden.stride)) / scale };
  tf.dispose([normalized, raw]);
  return out;
}

describe(`parity with Captum ${golden.versions.captum} (${golden.versions.captum_commit}) on the ResNet-18 parity case`, () => {
  it('the model gives the golden logits', () => {
    const logits = tf.tidy(() => model.forward(x, { training: false }).logits);
    expect(relativeError(logits, golden.logits)).toBeLessThan(1e-4);
    logits.dispose();
  });

  it('gradient equals Saliency(abs=True), max over channels', async () => {
    const o = { targets: golden.targets };
    const d = await compare('gradient', await gradient(model, x, o), await gradient(model, x, { ...o, normalize: false }));
    expect(d.map).toBeLessThan(CAPTUM_TOLERANCE.gradient.map);
    expect(d.raw).toBeLessThan(CAPTUM_TOLERANCE.gradient.raw);
  });

  for (const [key, method] of [
    ['integratedGradients', 'gauss-legendre'],
    ['integratedGradientsRiemannRight', 'riemann-right'],
  ] as const satisfies readonly (readonly [string, IntegrationMethod])[]) {
    it(`integratedGradients (${method}, ${golden.ig.steps} steps, baseline 0) equals IntegratedGradients, with its convergence delta`, async () => {
      // One pass: the attributions, reduced as integratedGradients reduces them (its map: channel
      // sum, 'absolute', min–max; raw: the signed channel sum, Captum's attributions summed over channels).
      const o = { targets: golden.targets, method, steps: golden.ig.steps, baseline: golden.ig.baseline, batchSize: 100 };
      const { attributions, completeness } = await integratedGradientsAttributions(model, x, o);
      const summed = reduceChannels(attributions, 'sum');
      const d = await compare(key, finishAttributionMap(summed, 'absolute', true), summed);
      attributions.dispose();
      expect(d.map).toBeLessThan(CAPTUM_TOLERANCE[key].map);
      expect(d.raw).toBeLessThan(CAPTUM_TOLERANCE[key].raw);
      const deltas = golden.ig.convergence_delta[key]!;
      const worst = Math.max(...completeness.errors.map((e, i) => Math.abs(e - deltas[i]!)));
      expect(worst).toBeLessThan(CAPTUM_TOLERANCE.convergenceDelta[key]);
    });
  }

  it('occlusion (window 8, stride 4, baseline 0) equals Occlusion with the same window, strides and baseline', async () => {
    const { window, stride, baseline } = golden.occlusion;
    // One pass, unnormalised with sign 'all': Captum's attribution itself (the same in every
    // channel); the map is what occlusion makes of it by default ('absolute', min–max).
    const raw = await occlusion(model, x, { targets: golden.targets, window, stride, baseline, batchSize: 150, normalize: false, sign: 'all' });
    const d = await compare('occlusion', finishAttributionMap(raw, 'absolute', true), raw);
    expect(d.map).toBeLessThan(CAPTUM_TOLERANCE.occlusion.map);
    expect(d.raw).toBeLessThan(CAPTUM_TOLERANCE.occlusion.raw);
  });

  it("smoothGrad on the golden's noise equals NoiseTunnel(Saliency) smoothgrad with that noise", async () => {
    const { samples, sigma, eps_code_scale: scale, eps_int8_base64_shwc: b64 } = golden.smooth_grad;
    const codes = new Int8Array(Buffer.from(b64, 'base64'));
    const noise = Float32Array.from(codes, (k) => k / scale);
    const o = { targets: golden.targets, samples, sigma, noise };
    const d = await compare('smoothGrad', await smoothGrad(model, x, o), await smoothGrad(model, x, { ...o, normalize: false }));
    expect(d.map).toBeLessThan(CAPTUM_TOLERANCE.smoothGrad.map);
    expect(d.raw).toBeLessThan(CAPTUM_TOLERANCE.smoothGrad.raw);
  });
});

describe(`parity with Quantus ${golden.versions.quantus} (${golden.versions.quantus_commit}): localisation and complexity on fixed maps`, () => {
  const maps = () => tf.tensor3d(q.maps, q.shape);
  const masks = () => tf.tensor3d(q.masks, q.shape);

  it('sparseness equals Sparseness() (abs, normalise: its defaults)', async () => {
    const s = maps();
    const worst = worstDifference((await sparseness(s)).scores, q.sparseness);
    expect(worst).toBeLessThan(QUANTUS_TOLERANCE.sparseness);
    s.dispose();
  });

  it('relevanceMassAccuracy equals RelevanceMassAccuracy(abs=True), NaN for the empty mask', async () => {
    const [s, m] = [maps(), masks()];
    const worst = worstDifference((await relevanceMassAccuracy(s, m)).scores, q.relevance_mass_accuracy);
    expect(worst).toBeLessThan(QUANTUS_TOLERANCE.relevanceMass);
    tf.dispose([s, m]);
  });

  it('relevanceRankAccuracy equals RelevanceRankAccuracy(abs=True) where the top K has no tie at its edge, and our tie rule elsewhere', async () => {
    const [s, m] = [maps(), masks()];
    const ours = (await relevanceRankAccuracy(s, m)).scores;
    for (const i of [0, 2, 4]) expect(ours[i]).toEqual(q.relevance_rank_accuracy[i] ?? Number.NaN);
    expect(ours).toEqual(q.relevance_rank_accuracy_ties_higher_index_first.map((v) => v ?? Number.NaN));
    // the ties matter: Quantus' unstable sort gives other values on maps 1 and 3
    expect(ours[1]).not.toEqual(q.relevance_rank_accuracy[1]);
    tf.dispose([s, m]);
  });
});

describe(`parity with Quantus ${golden.versions.quantus} (${golden.versions.quantus_commit}): MaxSensitivity of the gradient on the ResNet-18 parity case`, () => {
  it("maxSensitivity on the golden's perturbations equals MaxSensitivity with them (explain_func: Captum Saliency as our gradient)", async () => {
    const { samples, radius, code_max: kmax, delta_int8_base64_nshwc: b64, scores } = golden.max_sensitivity;
    const codes = new Int8Array(Buffer.from(b64, 'base64'));
    // float32(k / 127 · 0.2), the script's decoding (float64 arithmetic, then float32)
    const perturbations = Float32Array.from(codes, (k) => (k / kmax) * radius);
    const ours = await maxSensitivity(model, x, gradient, { samples, perturbations, targets: golden.targets });
    const worst = Math.max(...ours.scores.map((v, i) => Math.abs(v - scores[i]!) / Math.abs(scores[i]!)));
    expect(worst).toBeLessThan(QUANTUS_TOLERANCE.maxSensitivity);
  });
});

describe('given draws: smoothGrad `noise` and maxSensitivity `perturbations` replace the seeded ones', () => {
  const [h, w, c, samples] = [3, 4, 2, 4];
  const images = () => tf.tensor4d(Array.from({ length: 2 * h * w * c }, (_, p) => 1 + Math.abs(Math.sin(p))), [2, h, w, c]);
  const square = pointwiseSumClassifier(tf.square, h, w, c);

  it("the seeded draws given as noise reproduce the seed's map exactly", async () => {
    const rng = createRng(3);
    const noise = Float32Array.from({ length: samples * h * w * c }, () => rng.normal());
    const small = images();
    const seeded = await smoothGrad(square, small, { samples, seed: 3, batchSize: 4 });
    const given = await smoothGrad(square, small, { samples, seed: 99, noise, batchSize: 4 });
    expect(Array.from(await given.data())).toEqual(Array.from(await seeded.data()));
    tf.dispose([small, seeded, given]);
  });

  it('checks the noise it is given', async () => {
    const small = images();
    await expect(smoothGrad(square, small, { samples, noise: new Float32Array(7) })).rejects.toThrow(ShapeError);
    await expect(smoothGrad(square, small, { samples, noise: new Float32Array(7) })).rejects.toThrow(/noise must hold samples·H·W·C = 4·3·4·2 = 96 values, got 7/);
    await expect(smoothGrad(square, small, { samples: 1, noise: [1, 2] as unknown as Float32Array })).rejects.toThrow(/noise must be a Float32Array/);
    await expect(smoothGrad(square, small, { samples: 1, noise: Float32Array.from({ length: 24 }, (_, i) => (i === 5 ? Number.NaN : 0)) })).rejects.toThrow(/noise must be finite, got NaN at index 5/);
    small.dispose();
  });

  it("the seeded draws given as perturbations reproduce the seed's scores exactly", async () => {
    // the documented draws: one forked stream per (image, sample), image by image
    const root = createRng(5);
    const perturbations = new Float32Array(2 * samples * h * w * c);
    for (let r = 0; r < 2 * samples; r++) perturbations.set(uniformPerturbation(root.fork(), h * w * c, 0.3), r * h * w * c);
    const small = images();
    const seeded = await maxSensitivity(square, small, gradient, { samples, radius: 0.3, seed: 5, batchSize: 3 });
    const given = await maxSensitivity(square, small, gradient, { samples, radius: 9, seed: 1, perturbations, batchSize: 5 });
    expect(given.scores).toEqual(seeded.scores);
    expect(seeded.scores.every((v) => v > 0)).toBe(true);
    small.dispose();
  });

  it('checks the perturbations it is given', async () => {
    const small = images();
    await expect(maxSensitivity(square, small, gradient, { samples, perturbations: new Float32Array(3) })).rejects.toThrow(ShapeError);
    await expect(maxSensitivity(square, small, gradient, { samples, perturbations: new Float32Array(3) })).rejects.toThrow(/perturbations must hold N·samples·H·W·C = 2·4·3·4·2 = 192 values, got 3/);
    await expect(maxSensitivity(square, small, gradient, { samples: 1, perturbations: Float32Array.from({ length: 48 }, (_, i) => (i === 2 ? Number.POSITIVE_INFINITY : 0)) })).rejects.toThrow(/perturbations must be finite, got Infinity at index 2/);
    small.dispose();
  });
});
