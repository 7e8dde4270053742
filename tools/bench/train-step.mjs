#!/usr/bin/env node
// Benchmark `train-step`: one full training step (forward, backward, SGD with Nesterov momentum)
// of WRN-28-2 (FixMatch variant) at 32×32 on tfjs-backend-wasm with lico's training kernels
// (threaded build), against the same network and step in PyTorch on the CPU with the same thread
// count, measured in the same run. Also times the pure-JS cpu backend at a smaller batch, and
// reports a per-kernel profile of one wasm step and the peak RSS.
//
// The two sides are measured in alternating rounds (PyTorch's steps, then ours, `--rounds` times),
// so that a change of the machine's speed during the run (this shared machine's clock varies by up
// to ~1.7×) reaches both; the headline ratio is the median of the rounds' ratios.
//
// usage: npm run bench -- train-step [--json] [--threads T] [--batch 64] [--steps 3] [--rounds 3]
//                                    [--warmup 2] [--cpu-batch 2] [--cpu-steps 1] [--no-cpu]
//                                    [--no-reference]
import { machine, referenceEnv, referenceResult } from './lib/machine.mjs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { useBackend, wasmThreadsStarted, WASM_TRAINING_KERNELS, wasmKernelBuild, wasmConvAlgorithm } from '@lico/backends';
import { createKernelProfiler } from './lib/train-step-profile.mjs';
import { createStandInWrn } from './lib/train-step-wrn.mjs';
import { benchArgs } from './lib/args.mjs';
import { median } from './lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { arg, flag, threads } = benchArgs();
const batch = arg('batch', 64);
const steps = arg('steps', 3);
const rounds = arg('rounds', 3);
const warmup = arg('warmup', 2);
const cpuBatch = arg('cpu-batch', 2);
const cpuSteps = arg('cpu-steps', 1);
const log = (...a) => console.error('[train-step]', ...a);

async function createModel() {
  try {
    const { createWideResNet } = await import('@lico/backbones');
    return { model: createWideResNet({ preset: 'wrn-28-2', numClasses: 10, seed: 0 }), source: '@lico/backbones createWideResNet wrn-28-2' };
  } catch (error) {
    log(`@lico/backbones unavailable (${String(error?.message ?? error).split('\n')[0]}); using the stand-in WRN-28-2 of train-step-wrn.mjs`);
    return { model: createStandInWrn({ depth: 28, widen: 2, numClasses: 10, seed: 0 }), source: 'tools/bench/train-step-wrn.mjs (stand-in)' };
  }
}

function makeStep(model, b) {
  const optimizer = tf.train.momentum(0.03, 0.9, true);
  const x = tf.randomNormal([b, 32, 32, 3], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.randomUniform([b], 0, 10, 'int32', 2), 10);
  const vars = model.trainableVariables();
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x, { training: true }).logits), true, vars);
    const value = loss.dataSync()[0];
    loss.dispose();
    if (!Number.isFinite(value)) throw new Error(`non-finite loss ${value}`);
    return value;
  };
  return {
    step,
    dispose: () => {
      tf.dispose([x, labels]);
      optimizer.dispose();
    },
  };
}

function timeSteps(step, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}


// --- the reference: PyTorch, same thread count (one process per round) ---
function referenceRound(round) {
  const py = spawnSync('/usr/bin/python3', [path.join(here, 'train-step-reference.py'), '--threads', String(threads), '--batch', String(batch), '--steps', String(steps), '--warmup', '2'], { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'inherit'], env: referenceEnv() });
  const r = referenceResult(py, 'train-step-reference.py');
  log(`round ${round}: PyTorch ${r.msPerStep.toFixed(0)} ms/step (${r.msPerStepAll.map((t) => t.toFixed(0)).join(', ')})`);
  return r;
}

// --- ours: wasm with lico's kernels ---
const t0 = performance.now();
await useBackend('wasm', { threads, log: false });
const startupMs = performance.now() - t0;
log(`wasm backend up in ${startupMs.toFixed(0)} ms with ${wasmThreadsStarted() || 1} thread(s)`);
const { model, source } = await createModel();
const wasmStep = makeStep(model, batch);
for (let i = 0; i < warmup; i++) log(`wasm warm-up step ${i + 1}: loss ${wasmStep.step().toFixed(4)}`);
const tensorsBefore = tf.memory().numTensors;
const roundResults = [];
let reference = null;
const wasmTimes = [];
const referenceTimes = [];
for (let round = 1; round <= rounds; round++) {
  if (!flag('no-reference')) {
    reference = referenceRound(round);
    referenceTimes.push(...reference.msPerStepAll);
  }
  const times = timeSteps(wasmStep.step, steps);
  wasmTimes.push(...times);
  const ms = median(times);
  const ratio = reference ? median(reference.msPerStepAll) / ms : null;
  log(`round ${round}: wasm ${ms.toFixed(0)} ms/step (${times.map((t) => t.toFixed(0)).join(', ')})${ratio ? `, ratio ${ratio.toFixed(3)}` : ''}`);
  roundResults.push({ oursMsPerStep: Math.round(ms), referenceMsPerStep: reference ? Math.round(median(reference.msPerStepAll)) : null, ratio: ratio ? Math.round(ratio * 1000) / 1000 : null });
}
const tensorsAfter = tf.memory().numTensors;
wasmTimes.sort((a, b) => a - b);
referenceTimes.sort((a, b) => a - b);
const wasmMs = median(wasmTimes);
const referenceMs = referenceTimes.length ? median(referenceTimes) : null;
const ratios = roundResults.map((r) => r.ratio).filter((r) => r !== null).sort((a, b) => a - b);
log(`wasm: ${wasmMs.toFixed(0)} ms/step over ${wasmTimes.length} steps, tensors ${tensorsBefore} → ${tensorsAfter}`);
if (referenceMs !== null) log(`PyTorch: ${referenceMs.toFixed(0)} ms/step over ${referenceTimes.length} steps; ratios per round ${ratios.join(', ')}`);
const profiler = createKernelProfiler('wasm');
profiler.start();
const tp = performance.now();
wasmStep.step();
const profiledMs = performance.now() - tp;
const profile = profiler.stop();
profiler.restore();
log(`profile of one step (${profiledMs.toFixed(0)} ms):`);
for (const p of profile.slice(0, 15)) log(`  ${p.kernel.padEnd(28)} ${String(p.ms).padStart(6)} ms ${(100 * p.share).toFixed(1).padStart(5)} % (${p.calls} calls)`);
const wasmHeapBytes = tf.memory().numBytes;
wasmStep.dispose();
model.dispose();

// --- the pure-JS cpu backend at a smaller batch ---
let cpu = null;
if (!flag('no-cpu') && cpuSteps > 0) {
  await useBackend('cpu', { log: false });
  const m = (await createModel()).model;
  const s = makeStep(m, cpuBatch);
  log(`cpu backend: batch ${cpuBatch}, ${cpuSteps} step(s) (slow)…`);
  const times = timeSteps(s.step, cpuSteps);
  cpu = { batch: cpuBatch, msPerStep: Math.round(median(times)), imagesPerSec: cpuBatch / (median(times) / 1000) };
  log(`cpu: ${cpu.msPerStep} ms/step, ${cpu.imagesPerSec.toFixed(3)} images/s`);
  s.dispose();
  m.dispose();
}

const ours = batch / (wasmMs / 1000);
const result = {
  bench: 'train-step',
  unit: 'images/s',
  ours: Math.round(ours * 100) / 100,
  reference: referenceMs !== null ? Math.round((batch / (referenceMs / 1000)) * 100) / 100 : null,
  // The median of the rounds' ratios (each: PyTorch's median step time / ours, same round).
  ratio: ratios.length ? median(ratios) : null,
  rounds: roundResults,
  referenceName: reference ? `PyTorch ${reference.torch} CPU, ${reference.threads} threads, same WRN-28-2 step` : 'skipped',
  network: source,
  batch,
  threads,
  wasmThreads: wasmThreadsStarted() || 1,
  msPerStep: Math.round(wasmMs),
  msPerStepAll: wasmTimes.map((t) => Math.round(t)),
  referenceMsPerStep: referenceMs !== null ? Math.round(referenceMs) : null,
  referenceMsPerStepAll: referenceTimes.map((t) => Math.round(t)),
  cpuBackend: cpu,
  startupMs: Math.round(startupMs),
  tensorsPerStepLeak: (tensorsAfter - tensorsBefore) / steps,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  wasmTensorMiB: Math.round(wasmHeapBytes / 2 ** 20),
  kernels: WASM_TRAINING_KERNELS.map((k) => `${k.kernelName} (${k.kind})`),
  profile: profile.slice(0, 20),
  loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
  machine: machine(),
  wasmKernels: wasmKernelBuild(),
  wasmConv: wasmConvAlgorithm(),
  referenceEnv: reference?.env ?? null,
};
console.log(JSON.stringify(result));
process.exit(0);
