// A few LICO training steps of a tiny WideResNet on one fixed batch (no DOM): the numerics page
// runs them in Chromium on WebGL, its test runs them in Node on wasm and compares the two curves.
// The LICO objective of @lico/core with the text side of @lico/text (the word-vector encoder on
// vectors handed over as JSON, the prompt learner, the mapping net, the temperature) and both
// alignment losses of @lico/losses, trained by createTrainer (constant learning rate, no EMA).
import * as tf from '@tensorflow/tfjs-core';
import { constantSchedule, createLicoObjective, createTrainer } from '@lico/core';
import { createWideResNet } from '@lico/backbones';
import { createManifoldMatchingLoss, createOptimalTransportLoss } from '@lico/losses';
import { createMappingNet, createPromptLearner, createTemperature, createWordVectorEncoder } from '@lico/text';

/** The run: WRN-10-1 on the 8 samples (one per class) of samples.json, 7 steps, lr 0.05. */
export const LICO_STEPS = { steps: 7, learningRate: 0.05, numContext: 4 };

/**
 * Runs `steps` training steps on the batch `pixels` (each 784 grey values) with labels `labels`;
 * returns each step's loss terms and the tensor count after each step. Everything it creates is
 * disposed before it returns.
 */
export async function licoTrainingSteps({ pixels, labels, classNames, normalization, vectors, steps = LICO_STEPS.steps, learningRate = LICO_STEPS.learningRate }) {
  const { mean, std } = normalization;
  const n = pixels.length;
  const images = tf.tensor4d(Float32Array.from(pixels.flat(), (v) => (v / 255 - mean[0]) / std[0]), [n, 28, 28, 1]);
  const y = tf.tensor1d(labels, 'int32');
  const model = createWideResNet({ preset: 'wrn-10-1', numClasses: classNames.length, inputChannels: 1, seed: 0 });
  const encoder = await createWordVectorEncoder({ texts: classNames, vectors });
  const promptLearner = createPromptLearner({ encoder, classNames, numContext: LICO_STEPS.numContext, seed: 0 });
  const featureMap = tf.tidy(() => model.forward(tf.zeros([1, 28, 28, 1]), { training: false }).featureMap.shape);
  const mappingNet = createMappingNet({ inputDim: promptLearner.outputDim, outputDim: featureMap[1] * featureMap[2], seed: 0 });
  const temperature = createTemperature();
  const objective = createLicoObjective({ promptLearner, mappingNet, temperature, mm: createManifoldMatchingLoss(), ot: createOptimalTransportLoss(), alpha: 10, beta: 1 });
  const trainer = createTrainer({ model, objective, schedule: constantSchedule({ learningRate }), ema: false, seed: 0 });
  const before = tf.memory().numTensors;
  const curve = [];
  const numTensors = [];
  try {
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      const m = await trainer.trainStepAsync({ images, labels: y }, steps);
      curve.push({ step: m.step, ce: m.ce, mm: m.mm, ot: m.ot, total: m.total, accuracy: m.accuracy, gradNorm: m.gradNorm, ms: Math.round(performance.now() - t0) });
      numTensors.push(tf.memory().numTensors - before);
    }
  } finally {
    trainer.dispose();
    objective.dispose();
    tf.dispose([images, y]);
    for (const p of [model, promptLearner, mappingNet, temperature, encoder]) p.dispose();
  }
  return { backend: tf.getBackend(), curve, numTensors };
}
