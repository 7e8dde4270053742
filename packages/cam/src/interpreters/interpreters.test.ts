import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, UnknownNameError } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { resizeMaps } from '../common';
import { captumConvNet, linearGapClassifier } from '../testing/tiny-classifiers';
import { ablationCam } from './ablation-cam';
import { eigenCam } from './eigen-cam';
import { eigenGradCam } from './eigen-grad-cam';
import { gradCam } from './grad-cam';
import { gradCamElementWise } from './grad-cam-element-wise';
import { gradCamPlusPlus } from './grad-cam-plus-plus';
import { hiResCam } from './hi-res-cam';
import { layerCam } from './layer-cam';
import { createInterpreter, INTERPRETER_NAMES, interpreters } from './plugins';
import { rise } from './rise';
import { scoreCam } from './score-cam';
import { xGradCam } from './x-grad-cam';

beforeAll(useCpuBackend);

const RAW = { relu: false, normalize: false, upsample: 'none' } as const;

// 3×3 input, 2 channels, all positive; channel k at position p is A[k][p].
const A = [
  [1, 2, 3, 4, 5, 6, 7, 8, 9],
  [9, 1, 1, 1, 2, 1, 1, 1, 3],
];
const W = [
  [1, -2, 0.5],
  [3, 1, -1],
]; // [C=2, K=3]
function inputOf(channels: number[][], h: number, w: number): tf.Tensor4D {
  const data: number[] = [];
  for (let p = 0; p < h * w; p++) for (const ch of channels) data.push(ch[p]!);
  return tf.tensor4d(data, [1, h, w, channels.length]);
}
const combine = (weights: number[]) => A[0]!.map((_, p) => weights[0]! * A[0]![p]! + weights[1]! * A[1]![p]!);

describe('gradient CAMs: closed forms', () => {
  it('Grad-CAM reproduces captum\'s one-conv test: [[11.25,13.5],[20.25,22.5]]', async () => {
    const model = captumConvNet();
    const x = tf.reshape(tf.range(0, 16), [1, 4, 4, 1]) as tf.Tensor4D;
    const cam = await gradCam(model, x, { targets: [0], layer: 'conv', ...RAW });
    expect(cam.shape).toEqual([1, 2, 2]);
    expectClose(cam, [11.25, 13.5, 20.25, 22.5], { atol: 1e-4 });
  });

  it('Grad-CAM on a linear GAP head: α_k = W[k][c]/Z', async () => {
    const model = linearGapClassifier(W, 3, 3);
    const x = inputOf(A, 3, 3);
    for (const c of [0, 1, 2]) {
      const cam = await gradCam(model, x, { targets: [c], ...RAW });
      expectClose(cam, combine([W[0]![c]! / 9, W[1]![c]! / 9]), { atol: 1e-5, rtol: 1e-5 });
    }
  });

  it('Grad-CAM++ (pytorch-grad-cam form and official form)', async () => {
    const model = linearGapClassifier(W, 3, 3);
    const x = inputOf(A, 3, 3);
    const sums = A.map((ch) => ch.reduce((a, b) => a + b, 0));
    for (const c of [0, 1, 2]) {
      const g = [W[0]![c]! / 9, W[1]![c]! / 9];
      const pgc = g.map((gk, k) => (gk === 0 ? 0 : Math.max(gk, 0) * 9 * (gk ** 2 / (2 * gk ** 2 + sums[k]! * gk ** 3 + 1e-6))));
      expectClose(await gradCamPlusPlus(model, x, { targets: [c], ...RAW }), combine(pgc), { atol: 1e-5, rtol: 1e-4 });
      const official = g.map((gk) => Math.max(gk, 0));
      expectClose(await gradCamPlusPlus(model, x, { targets: [c], variant: 'official', ...RAW }), combine(official), { atol: 1e-5, rtol: 1e-4 });
    }
  });

  it('XGrad-CAM and Layer-CAM', async () => {
    const model = linearGapClassifier(W, 3, 3);
    const x = inputOf(A, 3, 3);
    const sums = A.map((ch) => ch.reduce((a, b) => a + b, 0));
    for (const c of [0, 2]) {
      const g = [W[0]![c]! / 9, W[1]![c]! / 9];
      expectClose(await xGradCam(model, x, { targets: [c], ...RAW }), combine(g.map((gk, k) => (gk * sums[k]!) / (sums[k]! + 1e-7))), { atol: 1e-5, rtol: 1e-5 });
      expectClose(await layerCam(model, x, { targets: [c], ...RAW }), combine(g.map((gk) => Math.max(gk, 0))), { atol: 1e-5, rtol: 1e-5 });
    }
  });

  it('HiResCAM equals Grad-CAM when the gradient is spatially constant (GAP head); element-wise: Σ_k ReLU(W[k][c]/Z·A^k)', async () => {
    const model = linearGapClassifier(W, 3, 3);
    const x = inputOf(A, 3, 3);
    for (const c of [0, 1, 2]) {
      expectClose(await hiResCam(model, x, { targets: [c], ...RAW }), await gradCam(model, x, { targets: [c], ...RAW }), { atol: 1e-6 });
      expectClose(await hiResCam(model, x, { targets: [c], ...RAW }), combine([W[0]![c]! / 9, W[1]![c]! / 9]), { atol: 1e-5, rtol: 1e-5 });
      const elementWise = A[0]!.map((_, p) => Math.max(0, (W[0]![c]! / 9) * A[0]![p]!) + Math.max(0, (W[1]![c]! / 9) * A[1]![p]!));
      expectClose(await gradCamElementWise(model, x, { targets: [c], ...RAW }), elementWise, { atol: 1e-5, rtol: 1e-5 });
    }
  });

  it("HiResCAM and Grad-CAM element-wise on captum's one-conv net (gradient not spatially constant): [0,4,25,25] and [0,4,31,40]", async () => {
    // conv activations: channel 0 [−5,4,31,40], channel 1 [−30,−21,6,15]; the gradient of the
    // (positive) logit is fc weight × 1[relu active]: channel 0 [0,1,1,1], channel 1 [0,0,−1,−1].
    const model = captumConvNet();
    const x = tf.reshape(tf.range(0, 16), [1, 4, 4, 1]) as tf.Tensor4D;
    expectClose(await hiResCam(model, x, { targets: [0], layer: 'conv', ...RAW }), [0, 4, 25, 25], { atol: 1e-4 });
    expectClose(await gradCamElementWise(model, x, { targets: [0], layer: 'conv', ...RAW }), [0, 4, 31, 40], { atol: 1e-4 });
  });

  it('default post-processing: ReLU, then min–max to [0,1] with eps 1e-7', async () => {
    const model = linearGapClassifier(W, 3, 3);
    const x = inputOf(A, 3, 3);
    const raw = combine([W[0]![1]! / 9, W[1]![1]! / 9]).map((v) => Math.max(v, 0));
    const min = Math.min(...raw);
    const max = Math.max(...raw.map((v) => v - min));
    const cam = await gradCam(model, x, { targets: [1] });
    expectClose(cam, raw.map((v) => (v - min) / (max + 1e-7)), { atol: 1e-6 });
    expect(Math.min(...cam.dataSync())).toBe(0);
  });

  it('Eigen-CAM of a rank-1 activation is the normalised ReLU of the centred pattern', async () => {
    const f = [0, 1, 4, 2, 9, 3, 5, 5, 1];
    const channels = [f.map((v) => 2 * v + 1), f.map((v) => 0.5 * v - 3), f.map((v) => v)];
    const model = linearGapClassifier([[1], [1], [1]], 3, 3);
    const cam = await eigenCam(model, inputOf(channels, 3, 3));
    const mean = f.reduce((a, b) => a + b, 0) / 9;
    const r = f.map((v) => Math.max(v - mean, 0));
    const max = Math.max(...r);
    expectClose(cam, r.map((v) => v / (max + 1e-7)), { atol: 1e-5 });
  });
});

describe('Eigen-Grad-CAM and Ablation-CAM: closed forms on a linear GAP head', () => {
  it('Eigen-Grad-CAM of a rank-1 g ⊙ A is ReLU(±(f − mean f)), the sign following Σ_k W[k][c]·a_k (class-dependent)', async () => {
    // A^k = a_k·f + b_k and g^k = W[k][c]/9, so g ⊙ A centred is rank 1 along f − mean f.
    const f = [0, 1, 4, 2, 9, 3, 5, 5, 1];
    const a = [2, 0.5];
    const channels = [f.map((v) => a[0]! * v + 1), f.map((v) => a[1]! * v - 3)];
    const weights = [
      [1, -1],
      [1, -1],
    ]; // class 0: Σ W·a > 0, class 1: < 0
    const model = linearGapClassifier(weights, 3, 3);
    const x = inputOf(channels, 3, 3);
    const mean = f.reduce((s, v) => s + v, 0) / 9;
    for (const [c, sign] of [
      [0, 1],
      [1, -1],
    ] as const) {
      const r = f.map((v) => Math.max(sign * (v - mean), 0));
      const max = Math.max(...r);
      const before = tf.memory().numTensors;
      const cam = await eigenGradCam(model, x, { targets: [c] });
      expectClose(cam, r.map((v) => v / (max + 1e-7)), { atol: 1e-5 });
      cam.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  // 3×3 input, 2 channels with zeros (min 0, so the 'auto' ablation value is 0, as after a ReLU).
  const R = [
    [0, 2, 3, 0, 5, 6, 1, 8, 0],
    [4, 0, 1, 1, 2, 0, 3, 1, 2],
  ];
  const WR = [
    [1, -2, 0.5],
    [3, 1, -1],
  ];
  const bias = [0.5, 3, 1];
  const meanOf = (ch: number[]) => ch.reduce((s, v) => s + v, 0) / 9;
  const logit = (c: number, chans: number[][]) => chans.reduce((s, ch, k) => s + WR[k]![c]! * meanOf(ch), bias[c]!);
  const ablationMap = (c: number, chans: number[][], value: number) => {
    const y = logit(c, chans);
    // ablating channel k to the constant v changes the logit by W[k][c]·(mean A^k − v)
    const w = chans.map((ch, k) => (WR[k]![c]! * (meanOf(ch) - value)) / y);
    return chans[0]!.map((_, p) => w[0]! * chans[0]![p]! + w[1]! * chans[1]![p]!);
  };

  it('Ablation-CAM: w_k = (y − y_k)/y with channel k set to 0 (auto value on a layer with zeros)', async () => {
    const model = linearGapClassifier(WR, 3, 3, bias);
    const x = inputOf(R, 3, 3);
    for (const c of [0, 1, 2]) {
      const before = tf.memory().numTensors;
      const cam = await ablationCam(model, x, { targets: [c], ...RAW });
      expectClose(cam, ablationMap(c, R, 0), { atol: 1e-5, rtol: 1e-4 });
      cam.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('Ablation-CAM: a positive layer is ablated to min − 1e7 (pytorch-grad-cam); an explicit ablationValue is used as given', async () => {
    const model = linearGapClassifier(WR, 3, 3, bias);
    const P = R.map((ch) => ch.map((v) => v + 2)); // min 2
    const x = inputOf(P, 3, 3);
    // weights ~1e7/y: the map's terms cancel, so the float32 error is relative to its largest value
    const huge = ablationMap(1, P, 2 - 1e7);
    expectClose(await ablationCam(model, x, { targets: [1], ...RAW }), huge, { atol: 1e-6 * Math.max(...huge.map(Math.abs)) });
    expectClose(await ablationCam(model, x, { targets: [1], ablationValue: 0.5, ...RAW }), ablationMap(1, P, 0.5), { atol: 1e-5, rtol: 1e-4 });
    await expect(ablationCam(model, x, { ablationValue: Number.NaN })).rejects.toThrow(ConfigError);
    // a target score of exactly 0 keeps the raw drops y − y_k as weights (no division by 0)
    const zero = linearGapClassifier(WR, 3, 3, [0, -logit(1, R) + bias[1]!, 0]);
    const drops = R.map((ch, k) => WR[k]![1]! * meanOf(ch));
    expectClose(await ablationCam(zero, inputOf(R, 3, 3), { targets: [1], ...RAW }), R[0]!.map((_, p) => drops[0]! * R[0]![p]! + drops[1]! * R[1]![p]!), { atol: 1e-5 });
    await expect(ablationCam(model, x, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
  });

  it('Ablation-CAM: batches of (image, channel) pairs across images give the same maps and forward counts shrink', async () => {
    const model = linearGapClassifier(WR, 3, 3, bias) as ReturnType<typeof linearGapClassifier> & { forwardCalls: number };
    const x = tf.concat([inputOf(R, 3, 3), inputOf([R[1]!, R[0]!], 3, 3), inputOf([R[0]!.map((v) => 8 - v), R[1]!], 3, 3)]);
    const one = await ablationCam(model, x, { targets: [0, 1, 2], batchSize: 1 });
    for (const batchSize of [4, 6, 32]) expectClose(await ablationCam(model, x, { targets: [0, 1, 2], batchSize }), one, { atol: 1e-6 });
  });
});

describe('upsampling convention', () => {
  it('bilinear with half-pixel centres: [1,2] → [1,1.25,1.75,2] (PyTorch align_corners=False)', () => {
    const maps = tf.tensor3d([1, 2, 1, 2], [1, 2, 2]);
    expectClose(resizeMaps(maps, [4, 4], 'bilinear'), [1, 1.25, 1.75, 2].flatMap((v) => [v]).concat([1, 1.25, 1.75, 2], [1, 1.25, 1.75, 2], [1, 1.25, 1.75, 2]));
    expectClose(tf.slice(resizeMaps(maps, [4, 4], 'bilinear-align-corners'), [0, 0, 0], [1, 1, 4]), [1, 4 / 3, 5 / 3, 2]);
  });

  it('maps come back at input resolution', async () => {
    const model = captumConvNet();
    const x = tf.reshape(tf.range(0, 32), [2, 4, 4, 1]) as tf.Tensor4D;
    const cam = await gradCam(model, x, { targets: [0, 0], layer: 'conv' });
    expect(cam.shape).toEqual([2, 4, 4]);
  });
});

describe('Score-CAM: closed forms on a linear GAP head', () => {
  // 2×2 input with 2 channels, feature map = input.
  const A2 = [
    [1, 3, 2, 6],
    [4, 1, 0, 2],
  ];
  const W2 = [
    [1, -1],
    [0.5, 2],
  ];
  const logitsOf = (masked: number[][]) => [0, 1].map((c) => masked.reduce((s, ch, k) => s + (ch.reduce((a, b) => a + b, 0) / 4) * W2[k]![c]!, 0));
  const expected = (target: number, official: boolean) => {
    const scores = A2.map((ch) => {
      const min = Math.min(...ch);
      const max = Math.max(...ch);
      const m = ch.map((v) => (official ? (v - min) / (max - min) : (v - min) / (max - min + 1e-8)));
      const logits = logitsOf(A2.map((x) => x.map((v, p) => v * m[p]!)));
      if (!official) return logits[target]!;
      const e = logits.map(Math.exp);
      return e[target]! / (e[0]! + e[1]!);
    });
    let weights = scores;
    if (!official) {
      const e = scores.map(Math.exp);
      weights = e.map((v) => v / (e[0]! + e[1]!));
    }
    return A2[0]!.map((_, p) => weights[0]! * A2[0]![p]! + weights[1]! * A2[1]![p]!);
  };

  it('pytorch-grad-cam variant (logit scores, softmax over channels) and official variant', async () => {
    const model = linearGapClassifier(W2, 2, 2);
    const x = inputOf(A2, 2, 2);
    for (const target of [0, 1]) {
      expectClose(await scoreCam(model, x, { targets: [target], ...RAW }), expected(target, false), { atol: 1e-5, rtol: 1e-5 });
      expectClose(await scoreCam(model, x, { targets: [target], variant: 'official', ...RAW }), expected(target, true), { atol: 1e-5, rtol: 1e-5 });
    }
  });

  it('batchSize does not change the map', async () => {
    const model = linearGapClassifier(W2, 2, 2);
    const x = inputOf(A2, 2, 2);
    expectClose(await scoreCam(model, x, { batchSize: 1 }), await scoreCam(model, x, { batchSize: 5 }), { atol: 1e-6 });
  });
});

describe('RISE', () => {
  // Two classes; class 0's logit is 8 × the mean of the top-left 4×4 quadrant of an 8×8 image.
  const quadrant: number[] = Array.from({ length: 64 }, (_, p) => (Math.floor(p / 8) < 4 && p % 8 < 4 ? 1 : 0));
  const model = linearGapClassifier([[8, 0], [0, 0]], 8, 8);
  const x = inputOf([quadrant.map((q) => q * 2), quadrant.map(() => 0)], 8, 8);

  it('puts the saliency where the evidence is', async () => {
    const sal = (await rise(model, x, { targets: [0], numMasks: 400, gridSize: 4, seed: 3 })).dataSync();
    const inside = quadrant.reduce((s, q, p) => s + q * sal[p]!, 0) / 16;
    const outside = quadrant.reduce((s, q, p) => s + (1 - q) * sal[p]!, 0) / 48;
    expect(inside).toBeGreaterThan(outside + 0.3);
    expect(Math.max(...sal)).toBeCloseTo(1, 5);
  });

  it('is seeded and independent of batchSize', async () => {
    const a = await rise(model, x, { targets: [0], numMasks: 50, seed: 1, batchSize: 7 });
    const b = await rise(model, x, { targets: [0], numMasks: 50, seed: 1, batchSize: 64 });
    const c = await rise(model, x, { targets: [0], numMasks: 50, seed: 2 });
    expectClose(a, b, { atol: 1e-5 });
    expect(Math.max(...tf.abs(tf.sub(a, c)).dataSync())).toBeGreaterThan(1e-3);
  });

  it('keepProbability is the probability a grid cell is kept', async () => {
    const { riseMasks } = await import('./rise');
    for (const p of [0.1, 0.5, 0.9]) {
      // gridSize = image size and no shift range larger than a cell: masks are the grids themselves.
      const m = riseMasks(4, 4, { numMasks: 2000, gridSize: 4, keepProbability: p, seed: 5 }).masks(0, 2000);
      expect(tf.mean(m).dataSync()[0]!).toBeCloseTo(p, 1);
      m.dispose();
    }
  });
});

describe('contract', () => {
  const model = linearGapClassifier(W, 3, 3);
  const x = tf.concat([inputOf(A, 3, 3), inputOf([A[1]!, A[0]!], 3, 3), inputOf([A[0]!.map((v) => 10 - v), A[1]!], 3, 3)]);
  const cheap = {
    rise: { numMasks: 40, gridSize: 3 },
    occlusion: { window: 2, stride: 1, batchSize: 5 },
    integratedGradients: { steps: 8, batchSize: 7 },
    smoothGrad: { samples: 6, batchSize: 5 },
  } as Record<string, object>;

  it('every interpreter: [N,H,W] in [0,1]; a batch equals its images one at a time; no leaks', async () => {
    for (const name of INTERPRETER_NAMES) {
      const interpreter = createInterpreter(name, cheap[name] ?? {});
      expect(interpreter.specificationVersion).toBe('v1');
      expect(interpreter.name).toBe(name);
      const targets = [0, 1, 2];
      const batch = await expectNoLeaks(() => interpreter.explain(model, x, { targets }));
      await expectNoLeaks(() => interpreter.explain(model, x, { targets }).then((t) => t.dispose()));
      expect(batch.shape).toEqual([3, 3, 3]);
      const values = batch.dataSync();
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThanOrEqual(1);
      for (let i = 0; i < 3; i++) {
        const single = await interpreter.explain(model, tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]), { targets: [targets[i]!] });
        expectClose(single, tf.slice(batch, [i, 0, 0], [1, -1, -1]), { atol: 1e-5 });
      }
    }
  });

  it('default target is the predicted class', async () => {
    const predicted = Array.from(tf.argMax(model.forward(x, { training: false }).logits, 1).dataSync());
    expectClose(await gradCam(model, x), await gradCam(model, x, { targets: predicted }), { atol: 0 });
  });

  it('rejects bad targets, layers, images and names', async () => {
    await expect(gradCam(model, x, { targets: [0, 1] })).rejects.toThrow(ShapeError);
    await expect(gradCam(model, x, { targets: [0, 1] })).rejects.toThrow(/2 targets for a batch of 3/);
    await expect(scoreCam(model, x, { targets: [0, 1, 3] })).rejects.toThrow(ConfigError);
    await expect(gradCam(model, x, { layer: 'nope' })).rejects.toThrow(UnknownNameError);
    await expect(gradCam(model, tf.zeros([1, 4, 3, 2]) as tf.Tensor4D)).rejects.toThrow(/\[1,4,3,2\]/);
    await expect(gradCam(model, tf.div(tf.zeros([1, 3, 3, 2]), 0) as tf.Tensor4D)).rejects.toThrow(/non-finite/);
    expect(() => createInterpreter('gradcam')).toThrow(/Valid interpreters: 'gradCam', 'gradCamPlusPlus'/);
    expect(Object.keys(interpreters)).toEqual(INTERPRETER_NAMES);
  });

  it('plugin defaults are overridden by call options', async () => {
    const interpreter = createInterpreter('gradCam', { ...RAW, targets: [0, 0, 0] });
    const raw = await interpreter.explain(model, x);
    expectClose(raw, await gradCam(model, x, { ...RAW, targets: [0, 0, 0] }), { atol: 0 });
    expectClose(await interpreter.explain(model, x, { targets: [1, 1, 1] }), await gradCam(model, x, { ...RAW, targets: [1, 1, 1] }), { atol: 0 });
  });
});
