#!/usr/bin/env node
// Benchmark `lico-step`: images/s of one full LICO training step on the wasm backend —
// WRN-28-2, 32×32, batch 64, a CLIP ViT-B/32-shaped text encoder (12 layers, width 512, random
// frozen weights), K = 10 classes, M = 12 context tokens / variants, OT + MM, SGD + EMA through
// @lico/core's trainer — against the same step as the authors formulate it in PyTorch on the CPU
// (tools/bench/lico-step-reference.py: the full 77-token text pass for all K·M prompts every
// step), measured in the same run with the same thread count. Also reports the baseline (CE only)
// step on both sides, so LICO's overhead is visible.
//
//   npm run bench -- lico-step --json [--threads 2] [--steps 2] [--baseline-steps 3] [--batch 64]
//                                     [--lico-warmup 1] [--text-pass] [--no-reference] [--profile]
// Wall time gives `ours`/`reference`; process CPU time (all threads) is reported beside it
// (`cpuRatio`), which is the fairer comparison when other processes share the CPU.
import { machine, referenceEnv, referenceResult } from './lib/machine.mjs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createBaselineObjective, createLicoObjective, createTrainer } from '@lico/core';
import { useBackend, wasmKernelBuild, wasmConvAlgorithm } from '@lico/backends';
import { createKernelProfiler } from './lib/train-step-profile.mjs';
import { createWideResNet } from '@lico/backbones';
import { CLIP_VIT_B_32_TEXT_CONFIG, createClipTextEncoder, createMappingNet, createPromptLearner, createTemperature } from '@lico/text';
import { createManifoldMatchingLoss, createOptimalTransportLoss } from '@lico/losses';
import { median } from './lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const threads = opt('threads', Number(process.env.LICO_WASM_THREADS || 2));
const steps = opt('steps', 2);
const baselineSteps = opt('baseline-steps', 3);
const batchSize = opt('batch', 64);
const licoWarmup = opt('lico-warmup', 1);
const textPass = argv.includes('--text-pass');
const withReference = !argv.includes('--no-reference');
const log = (...a) => console.error('[lico-step]', ...a);
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];


const cpuTimes = {};
async function timeSteps(name, n, fn, warmup = 1) {
  for (let i = 0; i < warmup; i++) fn(); // warm-up (kernel set-up, first allocations)
  const out = [];
  cpuTimes[name] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    fn();
    out.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpuTimes[name].push((c.user + c.system) / 1e6);
    log(`${name} step ${i + 1}/${n}: ${out.at(-1).toFixed(3)} s wall, ${cpuTimes[name].at(-1).toFixed(3)} s cpu (tensors ${tf.memory().numTensors})`);
  }
  return out;
}

async function ours() {
  const choice = await useBackend('wasm', { threads, log: (l) => log(l) });
  log(`backend ${tf.getBackend()} (${choice.message ?? ''})`);
  const images = tf.randomNormal([batchSize, 32, 32, 3], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(Array.from({ length: batchSize }, (_, i) => (i * 7) % 10), 'int32');
  const batch = { images, labels, indices: Int32Array.from({ length: batchSize }, (_, i) => i) };

  // Baseline: the classifier alone, CE, same trainer.
  const baseModel = createWideResNet({ preset: 'wrn-28-2', numClasses: 10, seed: 0 });
  const baseTrainer = createTrainer({ model: baseModel, objective: createBaselineObjective(), optimizer: { weightDecay: 5e-4 }, ema: { decay: 0.999 } });
  const baseline = await timeSteps('baseline', baselineSteps, () => baseTrainer.trainStep(batch, 1000));
  baseTrainer.dispose();
  baseModel.dispose();

  log('building the CLIP-shaped text encoder (random frozen weights)…');
  const encoder = createClipTextEncoder(CLIP_VIT_B_32_TEXT_CONFIG, 0);
  const model = createWideResNet({ preset: 'wrn-28-2', numClasses: 10, seed: 0 });
  const promptLearner = createPromptLearner({ encoder, classNames: CLASSES, numContext: 12 });
  const mappingNet = createMappingNet({ inputDim: promptLearner.outputDim, outputDim: 64 });
  const temperature = createTemperature();
  const objective = createLicoObjective({ promptLearner, mappingNet, mm: createManifoldMatchingLoss(), ot: createOptimalTransportLoss(), temperature, alpha: 10, beta: 1 });
  const trainer = createTrainer({ model, objective, optimizer: { weightDecay: 5e-4 }, ema: { decay: 0.999 } });

  // The text side alone: encode all K·M prompts and back-propagate to the context vectors.
  const textSeconds = !textPass ? null : await timeSteps('text', 1, () => {
    const { grads, value } = tf.variableGrads(() => tf.sum(promptLearner.encode({ training: true }).promptFeatures), promptLearner.trainableVariables());
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  }, 0);
  const lico = await timeSteps('lico', steps, () => trainer.trainStep(batch, 1000), licoWarmup);
  // --profile: one more LICO step with every wasm kernel timed (nested kernels charged to the outer one).
  let profile = null;
  if (argv.includes('--profile')) {
    const profiler = createKernelProfiler('wasm');
    profiler.start();
    trainer.trainStep(batch, 1000);
    profile = profiler.stop().slice(0, 20);
    profiler.restore();
    log('profile of one LICO step:');
    for (const p of profile.slice(0, 15)) log(`  ${p.kernel.padEnd(28)} ${String(p.ms).padStart(6)} ms ${(100 * p.share).toFixed(1).padStart(5)} % (${p.calls} calls)`);
  }
  const config = trainer.config;
  trainer.dispose();
  return { lico, baseline, textSeconds, config, backend: tf.getBackend(), profile };
}

function reference() {
  log('running the PyTorch reference (authors’ formulation; ~20 s per LICO step)…');
  const r = spawnSync('/usr/bin/python3', [path.join(here, 'lico-step-reference.py'), '--threads', String(threads), '--steps', String(steps), '--baseline-steps', String(baselineSteps), '--batch', String(batchSize), '--lico-warmup', String(licoWarmup)], {
    encoding: 'utf-8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...referenceEnv(), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
    maxBuffer: 1 << 24,
  });
  return referenceResult(r, 'lico-step-reference.py');
}

const o = await ours();
const ref = withReference ? reference() : null;
const oursStep = median(o.lico);
const oursBase = median(o.baseline);
const result = {
  bench: 'lico-step',
  unit: 'images/s',
  ours: batchSize / oursStep,
  reference: ref ? batchSize / median(ref.licoStepSeconds) : null,
  ratio: ref ? batchSize / oursStep / (batchSize / median(ref.licoStepSeconds)) : null,
  referenceName: "PyTorch CPU, the authors' formulation (77-token CLIP text pass for all K·M prompts every step)",
  backend: o.backend,
  threads,
  batch: batchSize,
  oursStepSeconds: o.lico,
  oursBaselineStepSeconds: o.baseline,
  oursBaselineImagesPerSecond: batchSize / oursBase,
  oursLicoOverhead: oursStep / oursBase,
  oursTextPassSeconds: o.textSeconds,
  referenceStepSeconds: ref?.licoStepSeconds ?? null,
  referenceBaselineStepSeconds: ref?.baselineStepSeconds ?? null,
  referenceBaselineImagesPerSecond: ref ? batchSize / median(ref.baselineStepSeconds) : null,
  referenceLicoOverhead: ref ? median(ref.licoStepSeconds) / median(ref.baselineStepSeconds) : null,
  referenceTextPassSeconds: ref?.textPassSeconds ?? null,
  referenceTorch: ref?.torch ?? null,
  referenceEnv: ref?.env ?? null,
  machine: machine(),
  wasmKernels: wasmKernelBuild(),
  wasmConv: wasmConvAlgorithm(),
  oursStepCpuSeconds: cpuTimes.lico,
  oursBaselineStepCpuSeconds: cpuTimes.baseline,
  oursTextPassCpuSeconds: cpuTimes.text ?? null,
  referenceStepCpuSeconds: ref?.licoStepCpuSeconds ?? null,
  referenceBaselineStepCpuSeconds: ref?.baselineStepCpuSeconds ?? null,
  referenceTextPassCpuSeconds: ref?.textPassCpuSeconds ?? null,
  oursCpuImagesPerSecond: batchSize / median(cpuTimes.lico),
  referenceCpuImagesPerSecond: ref ? batchSize / median(ref.licoStepCpuSeconds) : null,
  cpuRatio: ref ? median(ref.licoStepCpuSeconds) / median(cpuTimes.lico) : null,
  oursLicoOverheadCpu: median(cpuTimes.lico) / median(cpuTimes.baseline),
  referenceLicoOverheadCpu: ref ? median(ref.licoStepCpuSeconds) / median(ref.baselineStepCpuSeconds) : null,
  licoWarmupSteps: licoWarmup,
  profile: o.profile,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  note: 'CPU shared with other processes (wall-time ratio is noisy; cpuRatio compares process CPU seconds); medians of the timed steps',
};
console.log(JSON.stringify(result));
