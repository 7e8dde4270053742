#!/usr/bin/env node
// Benchmark `saliency`: images per second of every @lico/cam interpreter and metric on WRN-28-2 at
// 32×32 (10 classes, inference mode) on tfjs-backend-wasm, against the library a practitioner would
// use, on the CPU with the same thread count and the same settings (tools/bench/saliency-reference.py),
// in the same run: pytorch-grad-cam (Grad-CAM, Grad-CAM++, XGrad-CAM, Layer-CAM, Eigen-CAM, Score-CAM,
// HiResCAM, Grad-CAM element-wise, Eigen-Grad-CAM, Ablation-CAM, FullGrad, ROAD), Captum (Saliency,
// IntegratedGradients, NoiseTunnel smoothgrad, Occlusion), Quantus (Sparseness, MaxSensitivity) and a
// PyTorch port of the official RISE code (RISE, insertion/deletion). The headline is Grad-CAM; every
// row is in `methods` ({ ours, reference, ratio = reference time / ours, rounds, settings, referenceImpl }).
// The two sides run in alternating rounds (the reference's process, then ours, `--rounds` times:
// the host's speed drifts by up to ~1.7× between minutes, and that reaches both); each row's
// ratio is the median of its rounds' ratios, `ours` and `reference` the medians of their rates.
//
// usage: npm run bench -- saliency [--json] [--threads T] [--images 4] [--rounds 5] [--no-reference]
//   [--rise-masks 500] [--rise-batch 100] [--score-batch 32] [--step 32] [--ablation-batch 32]
//   [--ig-steps 50] [--ig-method gauss-legendre] [--ig-batch 64] [--sg-samples 50] [--sg-sigma 0.15]
//   [--sg-batch 64] [--occlusion-window 8] [--occlusion-stride 4] [--occlusion-batch 64]
//   [--road-percentiles 10,20,30,40,50,60,70,80,90] [--road-batch 64] [--sensitivity-samples 200]
//   [--sensitivity-radius 0.2] [--sensitivity-batch 64] [--min-seconds 0.5] [--rows gradient,scoreCam]
// --rows: only these rows, on both sides (default: every row; the headline is then the first one).
// Defaults are @lico/cam's own defaults (and, for ROAD and the Quantus metrics, the references').
import { machine, referenceEnv, referenceResult } from './lib/machine.mjs';
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
import { median } from './lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { arg, text, flag, threads } = benchArgs();
const images = arg('images', 4);
// 5 rounds: on the shared 2-core host timings drift by 10–20 % from minute to minute, and the
// median of 3 rounds moved by ~5 % between runs of the same code (2026-12-06: with 7 rounds, one
// row's per-round ratios spanned 0.67–1.22).
const rounds = arg('rounds', 5);
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
  // Each row's call on all images repeats until this many seconds have passed (both sides): one
  // call of a fast row (a CAM, sparseness) takes milliseconds, below the timer's and JIT's noise.
  minSeconds: arg('min-seconds', 0.5),
  // Only these rows on both sides (null: all).
  rows: text('rows', '') ? text('rows', '').split(',') : null,
};
const S = settings;
const log = (...a) => console.error('[saliency]', ...a);

/** One run of the reference process (every row), or null with --no-reference. */
function referenceRound(round) {
  if (flag('no-reference')) return null;
  log(`round ${round}: PyTorch reference, threads ${threads}, ${images} images`);
  const py = spawnSync('/usr/bin/python3', [path.join(here, 'saliency-reference.py'), '--threads', String(threads), '--images', String(images), '--settings', JSON.stringify(settings)], {
    encoding: 'utf-8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: referenceEnv(),
  });
  return referenceResult(py, 'saliency-reference.py');
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
/** Every row's function and settings, in order: `fn(xs, targets, maps)` returns what to dispose. */
const rows = [];
const row = (name, rowSettings, fn) => rows.push({ name, rowSettings, fn });
/** Per row: our images/s and the reference's of each round. */
const measured = {};
let reference = null;

/**
 * Times `fn(xs, targets, maps)` on all images (after one untimed call on all images in the first
 * round), repeated until `minSeconds` have passed, and returns our images/s for this round; the
 * row's leak is the largest over the rounds. The warm-up is full-size on both sides, so that what
 * a row sets up per batch size (oneDNN's primitives, our kept Winograd filter transforms) is done
 * before the timing; the reference's allocator is set by referenceEnv (lib/machine.mjs: with
 * glibc's dynamic thresholds a cold row's reference ran up to 40 % slower).
 */
async function timed(name, fn, first) {
  const before = tf.memory().numTensors;
  if (first) tf.dispose(await fn(x, targets, saliency)); // warm-up
  let calls = 0;
  let seconds = 0;
  const t0 = performance.now();
  do {
    tf.dispose(await fn(x, targets, saliency));
    calls++;
    seconds = (performance.now() - t0) / 1000;
  } while (seconds < S.minSeconds);
  leaks[name] = Math.max(leaks[name] ?? 0, tf.memory().numTensors - before);
  return (images * calls) / seconds;
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
  row(name, o, (xs, ts) => interpreter.explain(model, xs, { targets: ts }));
}
row('insertionDeletion', { stepSize: S.insertionDeletionStep, batchSize: 64, preset: S.insertionDeletionPreset }, async (xs, ts, maps) => {
  await insertionDeletion(model, xs, maps, { targets: ts, stepSize: S.insertionDeletionStep, batchSize: 64 });
  return [];
});
const roadOptions = { percentiles: S.roadPercentiles, noise: S.roadNoise, batchSize: S.roadBatch };
row('road', roadOptions, async (xs, ts, maps) => {
  await road(model, xs, maps, { ...roadOptions, targets: ts });
  return [];
});
row('sparseness', {}, async (_xs, _ts, maps) => {
  await sparseness(maps);
  return [];
});
const sensitivityOptions = { samples: S.sensitivitySamples, radius: S.sensitivityRadius, batchSize: S.sensitivityBatch };
const sensitivityInterpreter = createInterpreter(S.sensitivityInterpreter, {});
row('maxSensitivity', { ...sensitivityOptions, interpreter: S.sensitivityInterpreter }, async (xs, ts) => {
  await maxSensitivity(model, xs, sensitivityInterpreter, { ...sensitivityOptions, targets: ts });
  return [];
});
if (S.rows) {
  const known = rows.map((r) => r.name);
  const unknown = S.rows.filter((name) => !known.includes(name));
  if (unknown.length) throw new Error(`--rows: unknown row(s) ${unknown.join(', ')}; valid: ${known.join(', ')}`);
  rows.splice(0, rows.length, ...rows.filter((r) => S.rows.includes(r.name)));
}
for (let r = 1; r <= rounds; r++) {
  const ref = referenceRound(r);
  reference ??= ref;
  for (const { name } of rows) (measured[name] ??= { ours: [], reference: [] }).reference.push(ref?.methods?.[name] ?? null);
  for (const { name, fn } of rows) {
    const ours = await timed(name, fn, r === 1);
    measured[name].ours.push(ours);
    const refRate = measured[name].reference[r - 1];
    log(`round ${r}: ${name}: ours ${ours.toFixed(2)} images/s, reference ${refRate === null ? 'n/a' : refRate.toFixed(2)}`);
  }
}
for (const { name, rowSettings } of rows) {
  const { ours, reference: refs } = measured[name];
  const ratios = ours.map((o, k) => (refs[k] ? o / refs[k] : null)).filter((v) => v !== null);
  const ref = refs.some((v) => v === null) ? null : median(refs);
  methods[name] = {
    ours: round(median(ours)),
    reference: ref === null ? null : round(ref),
    ratio: ref === null || ratios.length === 0 ? null : round(median(ratios), 3),
    rounds: ours.map((o, k) => ({ ours: round(o), reference: refs[k] === null ? null : round(refs[k]), ratio: refs[k] ? round(o / refs[k], 3) : null })),
    settings: rowSettings,
    referenceImpl: reference?.implementations?.[name] ?? null,
    ...(ref === null ? { referenceMissing: reference ? (reference.missing?.[name] ?? 'no reference row') : 'reference skipped (--no-reference)' } : {}),
  };
}
tf.dispose([x, saliency]);
model.dispose();

const headName = methods.gradCam ? 'gradCam' : rows[0].name;
const head = methods[headName];
console.log(
  JSON.stringify({
    bench: 'saliency',
    unit: `images/s (${headName === 'gradCam' ? 'Grad-CAM' : headName})`,
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
    rounds,
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
