#!/usr/bin/env node
// Benchmark `saliency`: images per second of every @lico/cam interpreter and metric on WRN-28-2 at
// 32×32 (10 classes, inference mode) on tfjs-backend-wasm, against the library a practitioner would
// use, on the CPU with the same thread count and the same settings (tools/bench/saliency-reference.py),
// in the same run: pytorch-grad-cam (Grad-CAM, Grad-CAM++, XGrad-CAM, Layer-CAM, Eigen-CAM, Score-CAM,
// HiResCAM, Grad-CAM element-wise, Eigen-Grad-CAM, Ablation-CAM, FullGrad, ROAD), Captum (Saliency,
// IntegratedGradients, NoiseTunnel smoothgrad, Occlusion), Quantus (Sparseness, MaxSensitivity) and a
// PyTorch port of the official RISE code (RISE, insertion/deletion). The headline is Grad-CAM; every
// row is in `methods` ({ ours, reference, ratio = reference time / ours, settings, referenceImpl }).
//
// usage: npm run bench -- saliency [--json] [--threads T] [--images 4] [--no-reference]
//   [--rise-masks 500] [--rise-batch 100] [--score-batch 32] [--step 32] [--ablation-batch 32]
//   [--ig-steps 50] [--ig-method gauss-legendre] [--ig-batch 64] [--sg-samples 50] [--sg-sigma 0.15]
//   [--sg-batch 64] [--occlusion-window 8] [--occlusion-stride 4] [--occlusion-batch 64]
//   [--road-percentiles 10,20,30,40,50,60,70,80,90] [--road-batch 64] [--sensitivity-samples 200]
//   [--sensitivity-radius 0.2] [--sensitivity-batch 64]
// Defaults are @lico/cam's own defaults (and, for ROAD and the Quantus metrics, the references').
import { machine, referenceResult } from './lib/machine.mjs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { useBackend, wasmThreadsStarted, wasmKernelBuild, wasmConvAlgorithm } from '@lico/backends';
import { createWideResNet } from '@lico/backbones';
import { createInterpreter, insertionDeletion, maxSensitivity, predictedClasses, road, sparseness } from '@lico/cam';
import { benchArgs } from './lib/args.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { arg, text, flag, threads } = benchArgs();
const images = arg('images', 4);
// One object for both sides: the reference reads it (--settings) and the JSON records it.
const settings = {
  riseMasks: arg('rise-masks', 500),
  riseBatch: arg('rise-batch', 100),
  riseGrid: 8,
  keepProbability: 0.5,
  scoreBatch: arg('score-batch', 32),
  insertionDeletionStep: arg('step', 32),
  insertionDeletionPreset: 'rise',
  ablationBatch: arg('ablation-batch', 32),
  igSteps: arg('ig-steps', 50),
  igMethod: text('ig-method', 'gauss-legendre'),
  igBatch: arg('ig-batch', 64),
  smoothGradSamples: arg('sg-samples', 50),
  smoothGradSigma: arg('sg-sigma', 0.15),
  smoothGradBatch: arg('sg-batch', 64),
  occlusionWindow: arg('occlusion-window', 8),
  occlusionStride: arg('occlusion-stride', 4),
  occlusionBaseline: 0,
  occlusionBatch: arg('occlusion-batch', 64),
  roadPercentiles: text('road-percentiles', '10,20,30,40,50,60,70,80,90').split(',').map(Number),
  roadNoise: 0.01,
  roadBatch: arg('road-batch', 64),
  sensitivitySamples: arg('sensitivity-samples', 200),
  sensitivityRadius: arg('sensitivity-radius', 0.2),
  sensitivityBatch: arg('sensitivity-batch', 64),
  sensitivityInterpreter: 'gradient',
};
const S = settings;
const log = (...a) => console.error('[saliency]', ...a);

let reference = null;
if (!flag('no-reference')) {
  log(`PyTorch reference: threads ${threads}, ${images} images`);
  const py = spawnSync('/usr/bin/python3', [path.join(here, 'saliency-reference.py'), '--threads', String(threads), '--images', String(images), '--settings', JSON.stringify(settings)], {
    encoding: 'utf-8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  reference = referenceResult(py, 'saliency-reference.py');
}

await useBackend('wasm', { threads, log: false });
log(`wasm backend with ${wasmThreadsStarted() || 1} thread(s)`);
const model = createWideResNet({ preset: 'wrn-28-2', numClasses: 10, seed: 0 });
const x = tf.randomNormal([images, 32, 32, 3], 0, 1, 'float32', 1);
const targets = await predictedClasses(model, x);
// Saliency maps the metrics judge (uniform noise; the reference draws its own of the same shape).
const saliency = tf.randomUniform([images, 32, 32], 0, 1, 'float32', 2);
const methods = {};

const leaks = {};
const round = (v, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
/**
 * Times `fn(xs, targets, maps)` on all images after a one-image warm-up and records the row:
 * images/s both sides, ratio = ours / reference images/s (= reference time / our time), what ran.
 */
async function timed(name, rowSettings, fn) {
  const before = tf.memory().numTensors;
  const one = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]);
  const oneMap = tf.slice(saliency, [0, 0, 0], [1, -1, -1]);
  tf.dispose(await fn(one, targets.slice(0, 1), oneMap)); // warm-up
  tf.dispose([one, oneMap]);
  const t0 = performance.now();
  const out = await fn(x, targets, saliency);
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose(out);
  leaks[name] = tf.memory().numTensors - before;
  const ours = images / seconds;
  const ref = reference?.methods?.[name] ?? null;
  methods[name] = {
    ours: round(ours),
    reference: ref === null ? null : round(ref),
    ratio: ref ? round(ours / ref, 3) : null,
    settings: rowSettings,
    referenceImpl: reference?.implementations?.[name] ?? null,
    ...(ref === null ? { referenceMissing: reference ? (reference.missing?.[name] ?? 'no reference row') : 'reference skipped (--no-reference)' } : {}),
  };
  log(`${name}: ours ${ours.toFixed(2)} images/s, reference ${ref === null ? 'n/a' : ref.toFixed(2)}`);
}

const interpreterSettings = {
  gradCam: {},
  gradCamPlusPlus: {},
  xGradCam: {},
  layerCam: {},
  eigenCam: {},
  scoreCam: { batchSize: S.scoreBatch },
  rise: { numMasks: S.riseMasks, gridSize: S.riseGrid, keepProbability: S.keepProbability, batchSize: S.riseBatch },
  hiResCam: {},
  gradCamElementWise: {},
  eigenGradCam: {},
  ablationCam: { batchSize: S.ablationBatch },
  fullGrad: {},
  gradient: {},
  integratedGradients: { steps: S.igSteps, method: S.igMethod, batchSize: S.igBatch, baseline: 0 },
  smoothGrad: { samples: S.smoothGradSamples, sigma: S.smoothGradSigma, batchSize: S.smoothGradBatch },
  occlusion: { window: S.occlusionWindow, stride: S.occlusionStride, baseline: S.occlusionBaseline, batchSize: S.occlusionBatch },
};
for (const [name, o] of Object.entries(interpreterSettings)) {
  const interpreter = createInterpreter(name, o);
  await timed(name, o, (xs, ts) => interpreter.explain(model, xs, { targets: ts }));
}
await timed('insertionDeletion', { stepSize: S.insertionDeletionStep, batchSize: 64, preset: S.insertionDeletionPreset }, async (xs, ts, maps) => {
  await insertionDeletion(model, xs, maps, { targets: ts, stepSize: S.insertionDeletionStep, batchSize: 64 });
  return [];
});
const roadOptions = { percentiles: S.roadPercentiles, noise: S.roadNoise, batchSize: S.roadBatch };
await timed('road', roadOptions, async (xs, ts, maps) => {
  await road(model, xs, maps, { ...roadOptions, targets: ts });
  return [];
});
await timed('sparseness', {}, async (_xs, _ts, maps) => {
  await sparseness(maps);
  return [];
});
const sensitivityOptions = { samples: S.sensitivitySamples, radius: S.sensitivityRadius, batchSize: S.sensitivityBatch };
const sensitivityInterpreter = createInterpreter(S.sensitivityInterpreter, {});
await timed('maxSensitivity', { ...sensitivityOptions, interpreter: S.sensitivityInterpreter }, async (xs, ts) => {
  await maxSensitivity(model, xs, sensitivityInterpreter, { ...sensitivityOptions, targets: ts });
  return [];
});
tf.dispose([x, saliency]);
model.dispose();

const head = methods.gradCam;
console.log(
  JSON.stringify({
    bench: 'saliency',
    unit: 'images/s (Grad-CAM)',
    ours: head.ours,
    reference: head.reference,
    ratio: head.ratio,
    referenceName: reference
      ? `pytorch-grad-cam (CAMs, ROAD) / Captum (gradient, IG, SmoothGrad, occlusion) / Quantus (sparseness, max-sensitivity) / PyTorch port of the official RISE code (RISE, insertion/deletion), PyTorch ${reference.torch} CPU, ${reference.threads} threads`
      : 'skipped',
    referenceLibraries: reference?.libraries ?? null,
    methods,
    network: 'WRN-28-2 (FixMatch), 32×32, 10 classes, inference mode',
    images,
    threads,
    wasmThreads: wasmThreadsStarted() || 1,
    settings,
    tensorLeakByMethod: leaks,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
    machine: machine(),
    wasmKernels: wasmKernelBuild(),
    wasmConv: wasmConvAlgorithm(),
    referenceEnv: reference?.env ?? null,
  }),
);
