import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useCpuBackend } from '@lico/testing';
import '../register-gradients';
import { createLicoObjective } from '../objective/lico-objective';
import { createTrainer } from './trainer';
import { createStandInMappingNet, createStandInMm, createStandInOt, createStandInPromptLearner, createTinyClassifier } from './__fixtures__/stand-ins';

await useCpuBackend();

describe('trainer memory', () => {
  it('the tensor count stays flat over 1000 LICO steps (objective, SGD, EMA, clipping)', () => {
    const model = createTinyClassifier();
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: createStandInOt() });
    const trainer = createTrainer({ model, objective, ema: { decay: 0.999 }, clipGradNorm: 1, seed: 3 });
    const images = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 2], 'int32');
    const batch = { images, labels, indices: Int32Array.from([0, 1]) };
    trainer.trainStep(batch, 1000);
    const after1 = tf.memory().numTensors;
    let at500 = 0;
    for (let k = 1; k < 1000; k++) {
      const m = trainer.trainStep(batch, 1000);
      if (k === 500) at500 = tf.memory().numTensors;
      if (!Number.isFinite(m.total)) throw new Error(`non-finite at ${k}`);
    }
    expect(at500).toBe(after1);
    expect(tf.memory().numTensors).toBe(after1);
    expect(trainer.position.step).toBe(1000);
    trainer.dispose();
    objective.dispose();
    promptLearner.dispose();
    mappingNet.dispose();
    model.dispose();
    tf.dispose([images, labels]);
  });
});
