import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useCpuBackend, withoutKernel } from '@lico/testing';
import '../register-gradients';
import { createLicoObjective } from './lico-objective';
import { featurePositions } from './feature-positions';
import {
  createStandInDataset,
  createStandInMappingNet,
  createStandInMm,
  createStandInOt,
  createStandInPromptLearner,
  createTinyClassifier,
} from '../trainer/__fixtures__/stand-ins';

await useCpuBackend();

describe('drop-in: LICO added to a plain tfjs training loop (the README example)', () => {
  it('trains the classifier and the text side with tf.train.momentum().minimize', async () => {
    const model = createTinyClassifier();
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    const dataset = createStandInDataset({ size: 20 });
    const ctxBefore = Array.from(promptLearner.trainableVariables()[0]!.dataSync());

    // --- the README example ---------------------------------------------------------------
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: createStandInOt() }); // + 1 line
    const optimizer = tf.train.momentum(0.05, 0.9);
    const variables = [...model.trainableVariables(), ...objective.trainableVariables()]; // + text side
    const losses: number[] = [];
    for (let epoch = 0; epoch < 6; epoch++) {
      for await (const { images, labels } of dataset.batches({ batchSize: 5, seed: 1, epoch })) {
        const loss = optimizer.minimize(
          () => objective.computeLoss(model.forward(images, { training: true }), labels, { training: true }).total, // was: CE of logits
          true,
          variables,
        );
        losses.push(loss!.dataSync()[0]!);
        tf.dispose([loss!, images, labels]);
      }
    }
    // ----------------------------------------------------------------------------------------

    const first = losses.slice(0, 4).reduce((a, b) => a + b) / 4;
    const last = losses.slice(-4).reduce((a, b) => a + b) / 4;
    expect(last).toBeLessThan(first);
    expect(Array.from(promptLearner.trainableVariables()[0]!.dataSync())).not.toEqual(ctxBefore);
    optimizer.dispose();
    objective.dispose();
    model.dispose();
    promptLearner.dispose();
    mappingNet.dispose();
  });

  it('takes what tfjs users have: no options (training), one-hot labels [N,K] = the same loss as indices', async () => {
    const model = createTinyClassifier();
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: createStandInOt() });
    const dataset = createStandInDataset({ size: 6 });
    for await (const { images, labels } of dataset.batches({ batchSize: 6, seed: 1 })) {
      const out = model.forward(images, { training: false });
      const k = out.logits.shape[1];
      const byIndex = objective.computeLoss(out, labels, { training: true, seed: 3 });
      const oneHot = tf.oneHot(tf.cast(labels, 'int32'), k);
      const byOneHot = objective.computeLoss(out, oneHot as tf.Tensor2D, { training: true, seed: 3 });
      expect(byOneHot.total.dataSync()[0]).toBeCloseTo(byIndex.total.dataSync()[0]!, 6);
      tf.dispose([byOneHot.ce, byOneHot.mm, byOneHot.ot, byOneHot.total]);
      const plain = objective.computeLoss(out, labels);
      expect(Number.isFinite(plain.total.dataSync()[0]!)).toBe(true);
      expect(() => objective.computeLoss(out, tf.zeros([6, k + 1]) as tf.Tensor2D)).toThrow(/one column per class/);
      tf.dispose([images, labels, oneHot, out.logits, out.embedding, out.featureMap]);
    }
    objective.dispose();
    model.dispose();
    promptLearner.dispose();
    mappingNet.dispose();
  });
});

describe('drop-in on a backend without UnsortedSegmentSum (stock tfjs-backend-wasm)', () => {
  it('computes the same gradients of every variable: selecting by label needs no gather gradient', async () => {
    const model = createTinyClassifier();
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: createStandInOt() });
    const variables = [...model.trainableVariables(), ...objective.trainableVariables()];
    const dataset = createStandInDataset({ size: 6 });
    for await (const { images, labels } of dataset.batches({ batchSize: 6, seed: 1 })) {
      const loss = () => objective.computeLoss(model.forward(images, { training: true }), labels, { training: true, seed: 2 }).total;
      const reference = tf.variableGrads(loss, variables);
      const stock = withoutKernel('UnsortedSegmentSum', 'cpu', () => tf.variableGrads(loss, variables));
      expect(Object.keys(stock.grads).sort()).toEqual(Object.keys(reference.grads).sort());
      for (const name of Object.keys(reference.grads)) {
        const a = stock.grads[name]!.dataSync();
        const b = reference.grads[name]!.dataSync();
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(b[i]!));
      }
      tf.dispose([reference.value, stock.value, ...Object.values(reference.grads), ...Object.values(stock.grads), images, labels]);
    }
    objective.dispose();
    model.dispose();
    promptLearner.dispose();
    mappingNet.dispose();
  });
});

describe('featurePositions', () => {
  it("is H*W of the model's feature map (the mapping net's output size); bad shapes are named", () => {
    const model = createTinyClassifier();
    const out = model.forward(tf.zeros([1, 8, 8, 2]) as tf.Tensor4D, { training: false });
    const [, h, w] = out.featureMap.shape;
    tf.dispose([out.logits, out.embedding, out.featureMap]);
    const before = tf.memory().numTensors;
    expect(featurePositions(model, [8, 8, 2])).toBe(h * w);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => featurePositions(model, [8, 8] as never)).toThrow(/imageShape must be \[height, width, channels\]/);
    model.dispose();
  });
});

describe('computeLoss({ onTerms })', () => {
  it('hands out each term as a kept copy readable after optimizer.minimize; nothing leaks', async () => {
    const model = createTinyClassifier();
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: createStandInOt() });
    const optimizer = tf.train.sgd(0.01);
    const dataset = createStandInDataset({ size: 6 });
    const variables = [...model.trainableVariables(), ...objective.trainableVariables()];
    for await (const { images, labels } of dataset.batches({ batchSize: 6, seed: 1 })) {
      let got: { ce: tf.Scalar; mm: tf.Scalar; ot: tf.Scalar; total: tf.Scalar } | undefined;
      const cost = optimizer.minimize(
        () => objective.computeLoss(model.forward(images, { training: true }), labels, { training: true, seed: 2, onTerms: (t) => (got = t) }).total,
        true,
        variables,
      )!;
      const [ce, mm, ot, total] = await Promise.all([got!.ce.data(), got!.mm.data(), got!.ot.data(), got!.total.data()]);
      expect(total[0]).toBeCloseTo((await cost.data())[0]!, 6);
      expect(total[0]).toBeCloseTo(ce[0]! + 10 * mm[0]! + ot[0]!, 5);
      tf.dispose([cost, got!.ce, got!.mm, got!.ot, got!.total]);
      // The optimizer's slots are made on the first step; compare the tensor count of a second step.
      const again = optimizer.minimize(() => objective.computeLoss(model.forward(images, { training: true }), labels, { onTerms: (t) => tf.dispose([t.ce, t.mm, t.ot, t.total]) }).total, true, variables)!;
      again.dispose();
      const after = tf.memory().numTensors;
      const third = optimizer.minimize(() => objective.computeLoss(model.forward(images, { training: true }), labels, { onTerms: (t) => tf.dispose([t.ce, t.mm, t.ot, t.total]) }).total, true, variables)!;
      third.dispose();
      expect(tf.memory().numTensors).toBe(after);
      tf.dispose([images, labels]);
    }
    optimizer.dispose();
    objective.dispose();
    model.dispose();
    promptLearner.dispose();
    mappingNet.dispose();
  });
});
