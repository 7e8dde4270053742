#!/usr/bin/env node
// Benchmark `saliency`: images per second of each @lico/cam interpreter (Grad-CAM, Grad-CAM++,
// XGrad-CAM, Layer-CAM, Eigen-CAM, Score-CAM, RISE) and of insertion+deletion (RISE protocol) on
// WRN-28-2 at 32×32 (10 classes, inference mode) on tfjs-backend-wasm, against pytorch-grad-cam /
// PyTorch on the CPU with the same thread count (tools/bench/saliency-reference.py), in the same run.
// The headline is Grad-CAM; every method's numbers are in `methods`.
//
// usage: npm run bench -- saliency [--json] [--threads T] [--images 4] [--rise-masks 500]
//                                  [--rise-batch 100] [--score-batch 32] [--step 32] [--no-reference]
import { machine, referenceResult } from './lib/machine.mjs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { useBackend, wasmThreadsStarted, wasmKernelBuild } from '@lico/backends';
import { createWideResNet } from '@lico/backbones';
import { createInterpreter, insertionDeletion, predictedClasses } from '@lico/cam';
import { benchArgs } from './lib/args.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { arg, flag, threads } = benchArgs();
const images = arg('images', 4);
const riseMasks = arg('rise-masks', 500);
const riseBatch = arg('rise-batch', 100);
const scoreBatch = arg('score-batch', 32);
const step = arg('step', 32);
const log = (...a) => console.error('[saliency]', ...a);

let reference = null;
if (!flag('no-reference')) {
  log(`PyTorch reference: threads ${threads}, ${images} images`);
  const py = spawnSync(
    '/usr/bin/python3',
    [path.join(here, 'saliency-reference.py'), '--threads', String(threads), '--images', String(images), '--rise-masks', String(riseMasks), '--rise-batch', String(riseBatch), '--score-batch', String(scoreBatch), '--step', String(step)],
    { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  reference = referenceResult(py, 'saliency-reference.py');
}

await useBackend('wasm', { threads, log: false });
log(`wasm backend with ${wasmThreadsStarted() || 1} thread(s)`);
const model = createWideResNet({ preset: 'wrn-28-2', numClasses: 10, seed: 0 });
const x = tf.randomNormal([images, 32, 32, 3], 0, 1, 'float32', 1);
const targets = await predictedClasses(model, x);
const methods = {};

const leaks = {};
async function timed(name, fn) {
  const before = tf.memory().numTensors;
  const one = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]);
  tf.dispose(await fn(one, targets.slice(0, 1))); // warm-up
  one.dispose();
  const t0 = performance.now();
  const out = await fn(x, targets);
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose(out);
  leaks[name] = tf.memory().numTensors - before;
  const ours = images / seconds;
  const ref = reference?.methods?.[name] ?? null;
  methods[name] = { ours: round(ours), reference: ref === null ? null : round(ref), ratio: ref ? round(ours / ref, 3) : null };
  log(`${name}: ours ${ours.toFixed(2)} images/s, reference ${ref === null ? 'n/a' : ref.toFixed(2)}`);
}
const round = (v, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

const options = {
  gradCam: {},
  gradCamPlusPlus: {},
  xGradCam: {},
  layerCam: {},
  eigenCam: {},
  scoreCam: { batchSize: scoreBatch },
  rise: { numMasks: riseMasks, gridSize: 8, keepProbability: 0.5, batchSize: riseBatch },
};
for (const [name, o] of Object.entries(options)) {
  const interpreter = createInterpreter(name, o);
  await timed(name, (xs, ts) => interpreter.explain(model, xs, { targets: ts }));
}
const saliency = tf.randomUniform([images, 32, 32], 0, 1, 'float32', 2);
await timed('insertionDeletion', async (xs, ts) => {
  const s = xs.shape[0] === images ? saliency : tf.slice(saliency, [0, 0, 0], [1, -1, -1]);
  const r = await insertionDeletion(model, xs, s, { targets: ts, stepSize: step, batchSize: 64 });
  if (s !== saliency) s.dispose();
  return r.insertion ? [] : [];
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
    referenceName: reference ? `pytorch-grad-cam (CAMs) / PyTorch port of the official RISE code (RISE, insertion/deletion), PyTorch ${reference.torch} CPU, ${reference.threads} threads` : 'skipped',
    methods,
    network: 'WRN-28-2 (FixMatch), 32×32, 10 classes, inference mode',
    images,
    threads,
    wasmThreads: wasmThreadsStarted() || 1,
    settings: { riseMasks, riseBatch, riseGrid: 8, keepProbability: 0.5, scoreBatch, insertionDeletionStep: step, insertionDeletionPreset: 'rise' },
    tensorLeakByMethod: leaks,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
    machine: machine(),
    wasmKernels: wasmKernelBuild(),
    referenceEnv: reference?.env ?? null,
  }),
);
