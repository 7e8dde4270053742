/**
 * Parity with pytorch-grad-cam on the same weights: a torchvision ResNet-18 with the formula state
 * dict of `tools/reference/backbones-torch-weights.py`, rebuilt here with `formulaStateDict`, written
 * as .safetensors and imported through `@lico/backbones`. Goldens: `__golden__/pytorch-grad-cam.json`
 * from `tools/reference/cam-pytorch-grad-cam.py`; RISE: `__golden__/rise-official.json` from
 * `tools/reference/cam-rise-official.py` (the official eclique/RISE code). Runs on the wasm backend (fast forward convs).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { writeSafetensors } from '@lico/core';
import { loadTorchWeights } from '@lico/backbones';
import { describeChecks, loadGolden, relativeError } from '@lico/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageClassifier } from '@lico/core';
import { resizeMaps } from '../common';
import { blurWeights1d } from '../metrics/blur';
import { road, roadPerturb } from '../metrics/road';
import { rise, riseMasksFromArray } from './rise';
import { createParityResNet, parityInput, parityStateDict, pytorchGradCamChecks, stridedMaxAbsDiff, type PytorchGradCamGolden } from '../testing/pytorch-grad-cam-checks';

interface Golden extends PytorchGradCamGolden {
  cv2_resize: { input: number[][]; width: number; height: number; output: number[] };
  rise_gkern_11_5: number[];
  road: {
    percentiles: number[];
    noise: number;
    cams: number[];
    morf: Record<string, number[]>;
    lerf: Record<string, number[]>;
    morf_average: number[];
    lerf_average: number[];
    combined: number[];
    imputed_nchw_strided: Record<'morf_50' | 'lerf_30', number[]>;
  };
}
const golden = loadGolden<Golden>(new URL('../__golden__/pytorch-grad-cam.json', import.meta.url));

let dir: string;
let model: ImageClassifier;
let x: tf.Tensor4D;
beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  dir = mkdtempSync(path.join(tmpdir(), 'lico-cam-parity-'));
  const resnet = createParityResNet();
  const file = path.join(dir, 'resnet18.safetensors');
  await writeSafetensors(file, parityStateDict(resnet));
  await loadTorchWeights(resnet, file);
  model = resnet;
  x = parityInput(golden);
});
afterAll(() => {
  model?.dispose();
  x?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

// The logits and every map (tolerances, measured values: testing/pytorch-grad-cam-checks.ts; the
// browser example runs the same checks in Chromium on WebGL).
describeChecks('parity with pytorch-grad-cam (ResNet-18, formula weights, 2×3×64×64, layer4 and layer3)', 'wasm', () => pytorchGradCamChecks(golden, () => ({ model, x })));

describe('parity with pytorch-grad-cam: the goldens and the helpers', () => {
  it('the goldens tell HiResCAM from Grad-CAM on layer3 and from Grad-CAM element-wise on layer4 (and the new methods apart)', () => {
    const gap = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    expect(gap(golden.maps.hiResCamLayer3!, golden.maps.gradCamLayer3!)).toBeGreaterThan(0.05);
    expect(gap(golden.maps.gradCamElementWise!, golden.maps.hiResCam!)).toBeGreaterThan(0.05);
    // and Ablation-CAM / Eigen-Grad-CAM from Grad-CAM and Eigen-CAM
    expect(gap(golden.maps.ablationCam!, golden.maps.gradCam!)).toBeGreaterThan(0.05);
    expect(gap(golden.maps.ablationCamLayer3!, golden.maps.gradCamLayer3!)).toBeGreaterThan(0.05);
    expect(gap(golden.maps.eigenGradCamSignAligned!, golden.maps.eigenCamSignAligned!)).toBeGreaterThan(0.05);
  });

  it('bilinear half-pixel upsampling equals cv2.resize(INTER_LINEAR)', () => {
    const { input, width, height, output } = golden.cv2_resize;
    const maps = tf.tensor3d(input.flat(), [1, input.length, input[0]!.length]);
    const ours = resizeMaps(maps, [height, width], 'bilinear');
    expect(relativeError(ours, output)).toBeLessThan(1e-6);
    tf.dispose([maps, ours]);
  });

  it('RISE on the official code\'s masks equals the official RISE (eclique/RISE explanations.py) within 1e-5', async () => {
    const official = loadGolden<{ num_masks: number; keep_probability: number; targets: number[]; masks_uint8_base64: string; saliency: number[] }>(
      new URL('../__golden__/rise-official.json', import.meta.url),
    );
    const codes = Buffer.from(official.masks_uint8_base64, 'base64');
    const maskSource = riseMasksFromArray(Float32Array.from(codes, (c) => c / 255), official.num_masks, 64, 64);
    const maps = await rise(model, x, { maskSource, keepProbability: official.keep_probability, targets: official.targets, normalize: false, batchSize: 16 });
    // Σ p·M / (N·p1) in float32 on both sides: softmax probabilities ~0.1, 32 masks.
    expect(relativeError(maps, official.saliency)).toBeLessThan(1e-5);
    // Normalised (the default) it is the min–max of the same map.
    const normalized = await rise(model, x, { maskSource, keepProbability: official.keep_probability, targets: official.targets, batchSize: 16 });
    const [lo, hi] = [Math.min(...official.saliency.slice(0, 4096)), Math.max(...official.saliency.slice(0, 4096))];
    expect(relativeError(tf.slice(normalized, [0, 0, 0], [1, -1, -1]), official.saliency.slice(0, 4096).map((v) => (v - lo) / (hi - lo)))).toBeLessThan(1e-4);
    tf.dispose([maps, normalized]);
  });

  it('riseMasksFromArray checks its values and sizes', () => {
    expect(() => riseMasksFromArray(new Float32Array(7), 2, 2, 2)).toThrow(/7 values for 2 masks of 2×2/);
    expect(() => riseMasksFromArray(Float32Array.of(0, 1, 0.5, 1.5), 1, 2, 2)).toThrow(/1.5 at index 3 is not in \[0, 1\]/);
    expect(() => riseMasksFromArray(Float32Array.of(0, Number.NaN, 0, 0), 1, 2, 2)).toThrow(/NaN/);
  });

  it('the official RISE blur weights equal scipy gaussian_filter of a dirac', () => {
    const w = blurWeights1d({ sigma: 5, kernel: 11, weights: 'scipy-dirac' });
    const outer = Array.from({ length: 121 }, (_, i) => w[Math.floor(i / 11)]! * w[i % 11]!);
    expect(relativeError(outer, golden.rise_gkern_11_5)).toBeLessThan(1e-6);
  });
});

// ROAD (pytorch-grad-cam metrics/road.py) with noise 0 on the golden's own GradCAM layer3 maps
// (rounded to 6 decimals there; the same float32 values here), so the masks are identical.
// Stated tolerances: imputed images within 5e-6 (measured 5.4e-7: float64 solves on both sides,
// float32 images); score changes f(imputed) − f(x) within 1e-6 absolute (measured 6e-8).
const ROAD_IMAGE_TOLERANCE = 5e-6;
const ROAD_SCORE_TOLERANCE = 1e-6;

describe('parity with pytorch-grad-cam ROAD (ResNet-18, formula weights, GradCAM layer3 maps, noise 0)', () => {
  const r = golden.road;
  const cams = () => tf.tensor3d(r.cams, [2, 64, 64]);

  it('the imputed images of RemoveMostRelevantFirst(50) and RemoveLeastRelevantFirst(30)', async () => {
    const saliency = cams();
    for (const [key, percentile, order] of [
      ['morf_50', 50, 'morf'],
      ['lerf_30', 30, 'lerf'],
    ] as const) {
      const imputed = await roadPerturb(x, saliency, { percentile, order, noise: 0 });
      const nchw = tf.transpose(imputed, [0, 3, 1, 2]);
      const diff = await stridedMaxAbsDiff(nchw, r.imputed_nchw_strided[key], golden.stride);
      expect(diff).toBeLessThan(ROAD_IMAGE_TOLERANCE);
      tf.dispose([imputed, nchw]);
    }
    saliency.dispose();
  });

  it('MoRF / LeRF per percentile, their averages and ROADCombined', async () => {
    const saliency = cams();
    const before = tf.memory().numTensors;
    const ours = await road(model, x, saliency, { percentiles: r.percentiles, noise: r.noise, targets: golden.targets, batchSize: 36 });
    expect(tf.memory().numTensors).toBe(before);
    let worst = 0;
    const check = (a: readonly number[], b: readonly number[]) => a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]!))));
    r.percentiles.forEach((p, k) => {
      check(ours.morf[k]!, r.morf[String(p)]!);
      check(ours.lerf[k]!, r.lerf[String(p)]!);
    });
    check(ours.morfAverage, r.morf_average);
    check(ours.lerfAverage, r.lerf_average);
    check(ours.combined, r.combined);
    expect(worst).toBeLessThan(ROAD_SCORE_TOLERANCE);
    saliency.dispose();
  });
});
