#!/usr/bin/env node
// Benchmark `input-pipeline`: augmented images per second of @lico/datasets' input pipeline
// (CIFAR-shaped 32×32×3 uint8 data, random crop with 4-pixel reflect padding + horizontal flip +
// normalisation, batch 64, batches turned into wasm tensors and disposed) against the images per
// second a WRN-28-2 training step consumes on the same backend (tfjs-backend-wasm with lico's
// training kernels), measured in the same run. Goal: ratio ≥ 20. Extra fields: Fashion-MNIST
// (real Debian files) pipeline rate, torchvision's DataLoader on the same augmentation
// (single-threaded) for comparison, and the consumer's measured wait in a real training loop.
//
// usage: npm run bench -- input-pipeline [--json] [--threads T] [--batch 64] [--steps 2]
//                                         [--no-train] [--no-reference]
import { machine, referenceEnv, referenceResult } from './lib/machine.mjs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { useBackend, wasmThreadsStarted, wasmKernelBuild, wasmConvAlgorithm } from '@lico/backends';
import { createInMemoryDataset, fashionMnist, CIFAR10_NORMALIZATION } from '@lico/datasets';
import { benchArgs } from './lib/args.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { arg, flag, threads } = benchArgs();
const batch = arg('batch', 64);
const steps = arg('steps', 2);
const log = (...a) => console.error('[input-pipeline]', ...a);

await useBackend('wasm', { threads, log: false });
log(`wasm backend with ${wasmThreadsStarted() || 1} thread(s); batch ${batch}`);

// Synthetic CIFAR-shaped data (content does not matter for the cost).
const nImages = 8192;
const images = new Uint8Array(nImages * 3072);
let state = 12345;
for (let i = 0; i < images.length; i++) {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  images[i] = state >>> 24;
}
const labels = Int32Array.from({ length: nImages }, (_, i) => i % 10);
const cifarLike = createInMemoryDataset({
  name: 'synthetic-cifar', images, labels, imageShape: [32, 32, 3],
  classNames: Array.from({ length: 10 }, (_, i) => String(i)), normalization: CIFAR10_NORMALIZATION,
  augmentation: { cropPadding: 4, padMode: 'reflect', flip: true },
});

async function pipelineRate(ds, epochs) {
  let n = 0;
  const t0 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    for await (const b of ds.batches({ batchSize: batch, seed: 0, epoch, augment: true })) {
      n += b.indices.length;
      tf.dispose([b.images, b.labels]);
    }
  }
  return n / ((performance.now() - t0) / 1000);
}

await pipelineRate(cifarLike, 1); // warm-up (JIT)
const rates = [];
for (let r = 0; r < 3; r++) rates.push(await pipelineRate(cifarLike, 1));
rates.sort((a, b) => a - b);
const ours = rates[1];
log(`pipeline (32×32×3, crop+reflect+flip+normalise, to wasm tensors): ${rates.map((r) => r.toFixed(0)).join(', ')} images/s → median ${ours.toFixed(0)}`);

let fashion = null;
try {
  const fm = (await fashionMnist({ split: 'train' })).withAugmentation({ cropPadding: 2, flip: true });
  const t0 = performance.now();
  let n = 0;
  for await (const b of fm.batches({ batchSize: batch, seed: 0, augment: true, skipBatches: fm.numBatches({ batchSize: batch }) - 200 })) {
    n += b.indices.length;
    tf.dispose([b.images, b.labels]);
  }
  fashion = n / ((performance.now() - t0) / 1000);
  log(`pipeline on Fashion-MNIST train (28×28×1, crop 2 + flip): ${fashion.toFixed(0)} images/s`);
} catch (error) {
  log(`Fashion-MNIST skipped: ${String(error?.message ?? error).split('\n')[0]}`);
}

// The consumer: one WRN-28-2 training step (forward, backward, SGD Nesterov) on wasm.
let stepMs = null;
let trainLoop = null;
let network = null;
if (!flag('no-train')) {
  let model;
  try {
    const { createWideResNet } = await import('@lico/backbones');
    model = createWideResNet({ preset: 'wrn-28-2', numClasses: 10, seed: 0 });
    network = '@lico/backbones createWideResNet wrn-28-2';
  } catch (error) {
    const { createStandInWrn } = await import('./train-step-wrn.mjs');
    model = createStandInWrn({ depth: 28, widen: 2, numClasses: 10, seed: 0 });
    network = `tools/bench/train-step-wrn.mjs stand-in (${String(error?.message ?? error).split('\n')[0]})`;
  }
  const optimizer = tf.train.momentum(0.03, 0.9, true);
  const vars = model.trainableVariables();
  const step = (x, y) => {
    const oneHot = tf.oneHot(y, 10);
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(oneHot, model.forward(x, { training: true }).logits), true, vars);
    const v = loss.dataSync()[0];
    tf.dispose([loss, oneHot]);
    if (!Number.isFinite(v)) throw new Error(`non-finite loss ${v}`);
  };
  // A real training loop fed by the pipeline: warm-up 1 step, then `steps` timed steps.
  const times = [];
  let k = 0;
  for await (const b of cifarLike.batches({ batchSize: batch, seed: 1, augment: true, dropLast: true })) {
    const t0 = performance.now();
    step(b.images, b.labels);
    tf.dispose([b.images, b.labels]);
    if (k > 0) times.push(performance.now() - t0);
    log(`train step ${k}: ${(performance.now() - t0).toFixed(0)} ms`);
    if (++k > steps) break;
  }
  const s = cifarLike.pipelineStats;
  times.sort((a, b) => a - b);
  stepMs = times[Math.floor(times.length / 2)];
  trainLoop = { steps: k, firstWaitMs: Math.round(s.firstWaitMs * 10) / 10, waitMsAfterFirst: Math.round(s.waitMs * 10) / 10, maxWaitMs: Math.round(s.maxWaitMs * 10) / 10, waitShareOfStep: Math.round((s.waitMs / Math.max(1, s.batches - 1) / stepMs) * 10000) / 10000 };
  log(`WRN-28-2 step: ${stepMs.toFixed(0)} ms (${(batch / (stepMs / 1000)).toFixed(1)} images/s); loop waits ${JSON.stringify(trainLoop)}`);
  optimizer.dispose();
  model.dispose();
}

let torchvision = null;
if (!flag('no-reference')) {
  const py = spawnSync('/usr/bin/python3', [path.join(here, 'input-pipeline-reference.py'), '--batch', String(batch), '--threads', '1'], { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'inherit'], env: referenceEnv() });
  torchvision = referenceResult(py, 'input-pipeline-reference.py');
  log(`torchvision DataLoader (1 thread, num_workers 0): ${torchvision.imagesPerSec.toFixed(0)} images/s`);
}

const consume = stepMs ? batch / (stepMs / 1000) : null;
const result = {
  bench: 'input-pipeline',
  unit: 'images/s',
  ours: Math.round(ours),
  reference: consume ? Math.round(consume * 100) / 100 : null,
  ratio: consume ? Math.round((ours / consume) * 10) / 10 : null,
  referenceName: consume ? `images/s consumed by one WRN-28-2 training step (batch ${batch}) on tfjs wasm, ${wasmThreadsStarted() || 1} thread(s), same run` : 'skipped',
  goal: '>= 20',
  batch,
  network,
  stepMs: stepMs ? Math.round(stepMs) : null,
  pipelineRuns: rates.map((r) => Math.round(r)),
  fashionMnistImagesPerSec: fashion ? Math.round(fashion) : null,
  torchvisionImagesPerSec: torchvision ? Math.round(torchvision.imagesPerSec) : null,
  torchvisionVersions: torchvision ? `torch ${torchvision.torch}, torchvision ${torchvision.torchvision}` : null,
  trainLoop,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  load: os.loadavg().map((l) => Math.round(l * 10) / 10),
  machine: machine(),
  wasmKernels: wasmKernelBuild(),
  wasmConv: wasmConvAlgorithm(),
  referenceEnv: torchvision?.env ?? null,
};
console.log(JSON.stringify(result));
