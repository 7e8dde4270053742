#!/usr/bin/env node
// Benchmark `prompt-encode`: forward + backward (into the context vectors) of @lico/text's prompt
// learner around a CLIP ViT-B/32-shaped text encoder (12 layers, width 512, 8 heads, random frozen
// weights), M = 12 context vectors / variants, for K = 10 and K = 100 classes, on the wasm backend.
//
//   ours      = pass 'shared-prefix': cut after the last end-of-text token, the start token +
//               context computed once per variant, each class's suffix attending to it;
//   reference = pass 'full': the naive pass over all 77 positions for all K·M prompts.
//
// The naive pass shares nothing across classes (its cost is K × the cost of one class, and at
// K = 100 it would need ~30 GB of activations), so it is measured on `--naive-classes` classes
// (default 1) and scaled linearly to K; the JSON says so (naiveMeasuredClasses). ratio =
// naive / ours (higher is better). With `--torch`, PyTorch's naive pass on the same classes
// (tools/bench/prompt-encode-reference.py, same thread count) is reported as extra fields.
//
//   npm run bench -- prompt-encode --json [--threads 2] [--reps 2] [--naive-classes 1] [--ks 10,100] [--torch]
import { machine, referenceEnv, referenceResult } from './lib/machine.mjs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { useBackend, wasmKernelBuild, wasmConvAlgorithm } from '@lico/backends';
import { CLIP_VIT_B_32_TEXT_CONFIG, createClipTextEncoder, createPromptLearner } from '@lico/text';
import { median } from './lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const threads = opt('threads', Number(process.env.LICO_WASM_THREADS || 2));
const reps = opt('reps', 2);
const naiveClasses = opt('naive-classes', 1);
const withTorch = argv.includes('--torch');
const ks = (argv.includes('--ks') ? argv[argv.indexOf('--ks') + 1] : '10,100').split(',').map(Number);
const log = (...a) => console.error('[prompt-encode]', ...a);

const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const CIFAR100 = `apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle caterpillar cattle
chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard
lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear
pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake
spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale
willow_tree wolf woman worm`.split(/\s+/);


function forwardBackward(learner) {
  const { value, grads } = tf.variableGrads(() => {
    const { promptFeatures, classFeatures } = learner.encode({ training: true });
    return tf.add(tf.sum(tf.square(promptFeatures)), tf.sum(classFeatures));
  }, learner.trainableVariables());
  value.dataSync();
  for (const g of Object.values(grads)) g.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

function time(name, n, fn, warm = true) {
  if (warm) fn();
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
    log(`${name} ${i + 1}/${n}: ${(out.at(-1) / 1000).toFixed(2)} s (tensors ${tf.memory().numTensors})`);
  }
  return out;
}

const choice = await useBackend('wasm', { threads, log: (l) => log(l) });
log(`backend ${tf.getBackend()} ${choice.message ?? ''}`);
const t0 = performance.now();
const encoder = createClipTextEncoder(CLIP_VIT_B_32_TEXT_CONFIG, 0);
log(`random CLIP-shaped encoder built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const results = {};
for (const [k, names] of [
  [10, CIFAR10],
  [100, CIFAR100],
].filter(([k]) => ks.includes(k))) {
  const learner = createPromptLearner({ encoder, classNames: names, numContext: 12, seed: 0 });
  log(`K=${k}: prompt lengths ${Math.min(...learner.promptLengths)}–${Math.max(...learner.promptLengths)}, shared prefix ${learner.sharedPrefixLength}`);
  const ours = time(`K=${k} ours (shared prefix)`, k === 100 ? 1 : reps, () => forwardBackward(learner), k !== 100);
  learner.dispose();
  const sub = names.slice(0, Math.min(naiveClasses, k));
  const naive = createPromptLearner({ encoder, classNames: sub, numContext: 12, seed: 0, pass: 'full' });
  const naiveTimes = time(`K=${k} naive 77-token pass on ${sub.length} class(es)`, 1, () => forwardBackward(naive), k === 10);
  naive.dispose();
  const naiveScaled = (median(naiveTimes) * k) / sub.length;
  results[k] = { oursMs: median(ours), naiveMs: naiveScaled, naiveMeasuredMs: median(naiveTimes), ratio: naiveScaled / median(ours) };
  log(`K=${k}: ours ${(median(ours) / 1000).toFixed(2)} s, naive ${(naiveScaled / 1000).toFixed(1)} s (scaled from ${sub.length}), ratio ${results[k].ratio.toFixed(1)}×`);
}
encoder.dispose();

let torch = null;
if (withTorch) {
  log(`PyTorch naive pass on ${naiveClasses} class(es), ${threads} threads…`);
  const r = spawnSync('/usr/bin/python3', [path.join(here, 'prompt-encode-reference.py'), '--threads', String(threads), '--classes', String(naiveClasses), '--reps', '1'], { encoding: 'utf-8', env: referenceEnv() });
  torch = referenceResult(r, 'prompt-encode-reference.py');
}

const main = results[100] ?? results[10];
const out = {
  bench: 'prompt-encode',
  unit: `ms per forward+backward (K=${results[100] ? 100 : 10})`,
  ours: main.oursMs,
  reference: main.naiveMs,
  ratio: main.ratio,
  referenceName: 'tfjs-wasm naive 77-token pass of all K·M prompts (measured on naiveMeasuredClasses, scaled linearly to K)',
  k10: results[10] ?? null,
  k100: results[100] ?? null,
  naiveMeasuredClasses: naiveClasses,
  threads,
  backend: tf.getBackend(),
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  ...(torch ? { torchNaivePerClassMs: (1000 * median(torch.seconds)) / torch.classes, torchVersion: torch.torch, referenceEnv: torch.env } : {}),
  machine: machine(),
  wasmKernels: wasmKernelBuild(),
  wasmConv: wasmConvAlgorithm(),
};
console.log(JSON.stringify(out));
