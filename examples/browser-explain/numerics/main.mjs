// The numerics page: the same framework-free checks the vitest tests run in Node (the losses'
// goldens, pytorch-grad-cam parity), and a few LICO training steps, run here on the backend the
// test asks for. Fixtures (golden JSON, the ResNet-18 formula weights, word vectors) come from
// fixtures/ on this origin. `window.licoNumerics` is what the test calls.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend, wasmKernelThreads } from '@lico/backends';
import { fetchTorchWeights } from '@lico/backbones';
import { runChecks } from '@lico/testing/checks';
import { manifoldMatchingGoldenChecks, optimalTransportGoldenChecks } from '../../../packages/losses/src/__golden__/losses-golden-checks.ts';
import { createParityResNet, parityInput, pytorchGradCamChecks } from '../../../packages/cam/src/testing/pytorch-grad-cam-checks.ts';
import { licoTrainingSteps } from './lico-steps.mjs';

setWasmPaths(new URL('../wasm/', location.href).href);
// ?threads=N: the wasm backend's threads (lico's kernels on N − 1 Web Workers; the page is cross-origin isolated).
const THREADS = Number(new URLSearchParams(location.search).get('threads') ?? 1);
const fixture = async (name) => {
  const r = await fetch(new URL(`fixtures/${name}`, location.href));
  if (!r.ok) throw new Error(`fixtures/${name}: HTTP ${r.status}`);
  return r.json();
};
const log = (line) => {
  document.getElementById('log').textContent += `\n${line}`;
};

async function use(backend) {
  const choice = await useBackend(backend, { threads: THREADS });
  log(choice.message);
  return choice.backend;
}

/** The losses' golden checks (OT and MM) on `backend`. */
async function lossGoldens(backend) {
  await use(backend);
  const golden = await fixture('losses.json');
  return runChecks([...optimalTransportGoldenChecks(golden.optimalTransport), ...manifoldMatchingGoldenChecks(golden.manifoldMatching)]);
}

/**
 * pytorch-grad-cam parity on `backend`: the ResNet-18 fetched with fetchTorchWeights, then the
 * logits and the maps whose golden key is in `maps` (default: all).
 */
async function camParity(backend, maps) {
  await use(backend);
  const golden = await fixture('pytorch-grad-cam.json');
  const model = createParityResNet();
  const x = parityInput(golden);
  try {
    await fetchTorchWeights(model, new URL('fixtures/resnet18-formula.safetensors', location.href).href);
    const before = tf.memory().numTensors;
    const checks = pytorchGradCamChecks(golden, () => ({ model, x })).filter((c) => !maps || c.name.startsWith('the ') || maps.includes(c.name.split(' ')[0]));
    const reports = await runChecks(checks);
    return { reports, leaked: tf.memory().numTensors - before };
  } finally {
    model.dispose();
    x.dispose();
  }
}

/** A few LICO training steps on `backend` (see lico-steps.mjs). */
async function licoSteps(backend, options = {}) {
  await use(backend);
  const [samples, vectors] = await Promise.all([fetch(new URL('../samples.json', location.href)).then((r) => r.json()), fixture('word-vectors.json')]);
  return licoTrainingSteps({
    pixels: samples.samples.map((s) => s.pixels),
    labels: samples.samples.map((s) => s.label),
    classNames: samples.classNames,
    normalization: samples.normalization,
    vectors,
    ...options,
  });
}

/** The wasm backend's threads: tfjs's (XNNPACK) and lico's kernels' (workers running, calls shared). */
const wasmThreads = () => ({ crossOriginIsolated, tfjs: getThreadsCount(), lico: wasmKernelThreads() });

window.licoNumerics = { lossGoldens, camParity, licoSteps, wasmThreads, memory: () => tf.memory().numTensors };
window.licoReady = true;
log('ready');
