import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useCpuBackend } from '@lico/testing';
import '../register-gradients';
import { createLicoObjective, createBaselineObjective, type LicoObjective } from '../objective/lico-objective';
import { licoCosineSchedule } from '../optim/schedules';
import { loadVariables, readWeights } from '../io/tfjs-weights';
import type { AlignmentLoss, ImageClassifier } from '../spec';
import { createTrainer, NonFiniteLossError, type StepMetrics, type Trainer } from './trainer';
import { readCheckpointState } from './checkpoint';
import {
  createStandInDataset,
  createStandInMappingNet,
  createStandInMm,
  createStandInOt,
  createStandInPromptLearner,
  createTinyClassifier,
} from './__fixtures__/stand-ins';

await useCpuBackend();

const root = mkdtempSync(path.join(tmpdir(), 'lico-trainer-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  model: ImageClassifier;
  objective: LicoObjective;
  trainer: Trainer;
  dispose(): void;
}

function makeRun(options: { modelSeed?: number; ot?: AlignmentLoss; baseline?: boolean } = {}): Run {
  const model = createTinyClassifier({ seed: options.modelSeed ?? 1 });
  const promptLearner = createStandInPromptLearner();
  const mappingNet = createStandInMappingNet();
  const objective = options.baseline
    ? createBaselineObjective()
    : createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: options.ot ?? createStandInOt(), alpha: 10, beta: 1 });
  const trainer = createTrainer({
    model,
    objective,
    optimizer: { weightDecay: 5e-4 },
    schedule: licoCosineSchedule({ learningRate: 0.05, warmupSteps: 2 }),
    ema: { decay: 0.9 },
    clipGradNorm: 5,
    seed: 42,
  });
  return {
    model,
    objective,
    trainer,
    dispose() {
      trainer.dispose();
      objective.dispose();
      promptLearner.dispose();
      mappingNet.dispose();
      model.dispose();
    },
  };
}

function snapshot(trainer: Trainer): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, v] of Object.entries(trainer.checkpointVariables())) out[name] = Array.from(v.dataSync());
  return out;
}

const train = createStandInDataset({ size: 20, seed: 3 });
const validation = createStandInDataset({ size: 9, seed: 9, name: 'stand-in/val' });
const fitOptions = { epochs: 3, batchSize: 6, validation } as const; // 4 batches per epoch (6,6,6,2), 12 steps

describe('createTrainer', () => {
  it('a run stopped mid-epoch and resumed in fresh objects ends bitwise equal to an uninterrupted run', async () => {
    const a = makeRun();
    const stepsA: StepMetrics[] = [];
    const resultA = await a.trainer.fit(train, { ...fitOptions, onStep: (m) => void stepsA.push(m) });
    expect(resultA.stopped).toBe(false);
    expect(stepsA.length).toBe(12);
    const finalA = snapshot(a.trainer);

    // Stop mid-epoch (step 5 = epoch 1, batch 1) and on the last batch of an epoch (step 7).
    for (const stopAt of [5, 7]) {
      const dir = path.join(root, `resume-${stopAt}`);
      const b = makeRun();
      const stepsB: StepMetrics[] = [];
      const resultB = await b.trainer.fit(train, {
        ...fitOptions,
        checkpoint: { dir },
        onStep: (m) => {
          stepsB.push(m);
          if (m.step === stopAt) b.trainer.requestStop();
        },
      });
      expect(resultB.stopped).toBe(true);
      const position = { step: stopAt + 1, epoch: 1, batchInEpoch: stopAt - 3 };
      expect(b.trainer.position).toEqual(position);
      b.dispose();

      const state = await readCheckpointState(dir);
      expect(state).toMatchObject(position);
      const { tensors } = await readWeights(path.join(dir, 'weights'));
      const names = Object.keys(tensors);
      tf.dispose(Object.values(tensors));
      for (const prefix of ['model/', 'text/promptLearner/', 'text/mappingNet/', 'text/temperature/', 'optimizer/', 'ema/model/']) {
        expect(names.some((n) => n.startsWith(prefix))).toBe(true);
      }
      expect(names).toContain('model/bn/running_mean');
      expect(names).toContain('ema/model/bn/running_mean');

      // Fresh objects, differently initialised: everything must come from the checkpoint.
      const c = makeRun({ modelSeed: 99 });
      expect(await c.trainer.loadCheckpoint(dir)).toEqual(position);
      const stepsC: StepMetrics[] = [];
      const resultC = await c.trainer.fit(train, { ...fitOptions, onStep: (m) => void stepsC.push(m) });
      expect(resultC.stopped).toBe(false);
      expect([...stepsB, ...stepsC]).toEqual(stepsA);
      expect(resultC.history).toEqual(resultA.history);
      expect(snapshot(c.trainer)).toEqual(finalA);
      c.dispose();
    }
    expect(resultA.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(resultA.history[2]!.validation!.count).toBe(9);
    // A custom validate() replaces the dataset pass; its result is recorded per epoch, the run is unchanged.
    const v = makeRun();
    const calls: number[] = [];
    const resultV = await v.trainer.fit(train, {
      epochs: 3,
      batchSize: 6,
      validate: async (epoch) => {
        calls.push(epoch);
        return { ce: epoch, accuracy: 0.5, count: 7 };
      },
    });
    expect(calls).toEqual([0, 1, 2]);
    expect(resultV.history.map((h) => h.validation)).toEqual([0, 1, 2].map((e) => ({ ce: e, accuracy: 0.5, count: 7 })));
    expect(snapshot(v.trainer)).toEqual(finalA);
    v.dispose();
    // The learning rates follow the schedule: warm-up then lr0*cos(7πk/16K) over the remaining 10 steps.
    expect(stepsA[0]!.learningRate).toBeCloseTo(0.025, 12);
    expect(stepsA[7]!.learningRate).toBeCloseTo(0.05 * Math.cos((7 * Math.PI * 5) / (16 * 10)), 12);
    // Epoch metrics are batch-size-weighted means of the step metrics.
    const e0 = stepsA.slice(0, 4);
    const mean = e0.reduce((s, m) => s + m.total * m.batchSize, 0) / 20;
    expect(resultA.history[0]!.train.total).toBeCloseTo(mean, 10);
    a.dispose();
  });

  it('refuses to continue with a different run length', async () => {
    const dir = path.join(root, 'length');
    const r = makeRun();
    await r.trainer.fit(train, { epochs: 1, batchSize: 6, checkpoint: { dir } });
    const s = makeRun();
    await s.trainer.loadCheckpoint(dir);
    await expect(s.trainer.fit(train, { epochs: 2, batchSize: 6 })).rejects.toThrow(/4 total steps.*8/);
    r.dispose();
    s.dispose();
  });

  it('a non-finite loss stops training naming the term and the step; the last checkpoint stays intact', async () => {
    let poison = false;
    const ot = createStandInOt();
    const badOt: AlignmentLoss = { ...ot, compute: (inp) => (poison ? tf.mul(ot.compute(inp), Number.NaN) : ot.compute(inp)) as tf.Scalar };
    const r = makeRun({ ot: badOt });
    const dir = path.join(root, 'nonfinite');
    let atGood: Record<string, number[]> = {};
    const err = await r.trainer
      .fit(train, {
        ...fitOptions,
        checkpoint: { dir, everySteps: 1 },
        onStep: (m) => {
          if (m.step === 4) {
            atGood = snapshot(r.trainer);
            poison = true;
          }
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as NonFiniteLossError).term).toBe('ot');
    expect((err as NonFiniteLossError).step).toBe(5);
    expect((err as Error).message).toMatch(/Loss term 'ot' is NaN at step 5 \(epoch 1, batch 1\)/);
    // The failing step applied no update to trained weights; the checkpoint holds step 5's state.
    expect(await readCheckpointState(dir)).toMatchObject({ step: 5 });
    const fresh = makeRun({ modelSeed: 5 });
    await fresh.trainer.loadCheckpoint(dir);
    expect(snapshot(fresh.trainer)).toEqual(atGood);
    expect(readdirSync(root).filter((f) => f.includes('.tmp') || f.includes('.old'))).toEqual([]);
    const trained = snapshot(r.trainer);
    expect(trained['model/conv/kernel']).toEqual(atGood['model/conv/kernel']);
    expect(trained['text/promptLearner/ctx']).toEqual(atGood['text/promptLearner/ctx']);
    r.dispose();
    fresh.dispose();
  });

  it('evaluate: CE and accuracy of the classifier alone, with EMA weights swapped in and restored', async () => {
    const r = makeRun();
    await r.trainer.fit(train, { epochs: 1, batchSize: 6 });
    const before = snapshot(r.trainer);
    const plain = await r.trainer.evaluate(validation, { batchSize: 4, useEma: false });
    // Closed form over the whole set at once.
    let images: tf.Tensor4D | undefined;
    let labels: tf.Tensor1D | undefined;
    for await (const b of validation.batches({ batchSize: 9, seed: 0, shuffle: false })) ({ images, labels } = b);
    const expected = tf.tidy(() => {
      const logits = r.model.forward(images!, { training: false }).logits;
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels!, 3), tf.logSoftmax(logits)), 1)));
      const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels!), 'float32'));
      return [ce.dataSync()[0]!, acc.dataSync()[0]!];
    });
    expect(plain.ce).toBeCloseTo(expected[0]!, 5);
    expect(plain.accuracy).toBeCloseTo(expected[1]!, 6);
    expect(plain.count).toBe(9);
    const withEma = await r.trainer.evaluate(validation, { batchSize: 4 });
    expect(withEma.ce).not.toBe(plain.ce);
    expect(snapshot(r.trainer)).toEqual(before);
    tf.dispose([images!, labels!]);
    r.dispose();
  });

  it('inference has no overhead: the exported classifier is the classifier alone, same params, same forward', async () => {
    const r = makeRun();
    await r.trainer.fit(train, { epochs: 1, batchSize: 6 });
    const dir = path.join(root, 'export');
    await r.trainer.exportClassifier(dir, { useEma: false });
    const { tensors } = await readWeights(dir);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(r.model.namedVariables()).sort());
    tf.dispose(Object.values(tensors));
    const baseline = createTinyClassifier({ seed: 123 }); // constructed as for a baseline run
    await loadVariables(dir, baseline.namedVariables());
    expect(baseline.countParams()).toBe(r.model.countParams());
    const x = tf.randomNormal([5, 6, 6, 2], 0, 1, 'float32', 8) as tf.Tensor4D;
    const kernelsOf = async (m: ImageClassifier) => {
      const info = await tf.profile(() => m.forward(x, { training: false }).logits);
      return { kernels: info.kernelNames, newBytes: info.newBytes };
    };
    const ours = r.model.forward(x, { training: false });
    const theirs = baseline.forward(x, { training: false });
    expect(Array.from(ours.logits.dataSync())).toEqual(Array.from(theirs.logits.dataSync()));
    expect(Array.from(ours.featureMap.dataSync())).toEqual(Array.from(theirs.featureMap.dataSync()));
    expect(await kernelsOf(r.model)).toEqual(await kernelsOf(baseline));
    tf.dispose([x, ours.logits, ours.embedding, ours.featureMap, theirs.logits, theirs.embedding, theirs.featureMap]);
    baseline.dispose();
    r.dispose();
  });

  it('baseline mode trains through the same trainer (CE only, no text variables)', async () => {
    const r = makeRun({ baseline: true });
    const steps: StepMetrics[] = [];
    const { history } = await r.trainer.fit(train, { epochs: 8, batchSize: 10, onStep: (m) => void steps.push(m) });
    expect(steps.every((m) => m.mm === 0 && m.ot === 0 && m.total === m.ce)).toBe(true);
    expect(Object.keys(r.trainer.checkpointVariables()).some((n) => n.startsWith('text/'))).toBe(false);
    expect(history.at(-1)!.train.ce).toBeLessThan(history[0]!.train.ce);
    r.dispose();
  });

  it('a weight that turns NaN stops the run at the epoch end with its name, before the checkpoint', async () => {
    const r = makeRun();
    const dir = path.join(root, 'nan-weights');
    const victim = Object.entries(r.model.namedVariables())[0]!;
    const run = r.trainer.fit(train, {
      epochs: 2,
      batchSize: 6,
      checkpoint: { dir },
      onStep: (m) => {
        if (m.step === 7) victim[1].assign(tf.fill(victim[1].shape, Number.NaN)); // the last update of epoch 1
      },
    });
    await expect(run).rejects.toThrow(new RegExp(`the weight 'model/${victim[0]}'.* hold NaN or Infinity`));
    // The last checkpoint is the end of epoch 0 (4 steps), not the poisoned epoch 1.
    expect(JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8'))).toMatchObject({ step: 4, epoch: 1 });
    r.dispose();
  });

  it('fit is leak-free: checkpoints, validation, EMA, progress bar and callbacks over 40 steps', async () => {
    const r = makeRun();
    const counts: number[] = [];
    const lines: string[] = [];
    const small = createStandInDataset({ size: 8, seed: 4 });
    const before = tf.memory().numTensors;
    await r.trainer.fit(small, {
      epochs: 20,
      batchSize: 4,
      validation,
      checkpoint: { dir: path.join(root, 'leak'), everySteps: 3 },
      progress: { write: (c: string) => void lines.push(c) },
      onStep: (m) => {
        if (m.step === 3 || m.step === 39) counts.push(tf.memory().numTensors);
      },
    });
    expect(r.trainer.position.step).toBe(40);
    expect(counts[1]).toBe(counts[0]);
    expect(tf.memory().numTensors).toBe(before);
    expect(lines.some((l) => l.includes('epoch 20/20') && l.includes('2/2'))).toBe(true);
    r.dispose();
  });

  it('validates options', async () => {
    const r = makeRun();
    await expect(r.trainer.fit(train, { epochs: 0, batchSize: 6 })).rejects.toThrow(/epochs/);
    expect(() => createTrainer({ model: r.model, objective: r.objective, clipGradNorm: -1 })).toThrow(/clipGradNorm/);
    expect(r.trainer.config).toMatchObject({ seed: 42, clipGradNorm: 5, ema: { decay: 0.9 }, optimizer: { name: 'sgd', weightDecay: 5e-4 }, schedule: { name: 'lico-cosine' } });
    expect(JSON.parse(JSON.stringify(r.trainer.config))).toEqual(r.trainer.config);
    r.dispose();
  });
});

describe('createTrainer: trainStepAsync', () => {
  it('awaits the read-back and gives the same metrics and weights as trainStep', async () => {
    const [a, b] = [makeRun(), makeRun()];
    for await (const batch of train.batches({ batchSize: 6, seed: 0, epoch: 0 })) {
      const before = tf.memory().numTensors;
      const ma = a.trainer.trainStep(batch, 4);
      const mb = await b.trainer.trainStepAsync(batch, 4);
      expect(tf.memory().numTensors).toBe(before);
      expect(mb).toEqual(ma);
      tf.dispose([batch.images, batch.labels]);
    }
    expect(snapshot(b.trainer)).toEqual(snapshot(a.trainer));
    expect(b.trainer.position).toEqual(a.trainer.position);
    a.dispose();
    b.dispose();
  });
});

describe('createTrainer: labels outside the classes', () => {
  it('a batch with a label >= numClasses stops with a named error before any update', async () => {
    const r = makeRun({ baseline: true });
    const before = snapshot(r.trainer);
    const bad = { images: tf.zeros([2, 8, 8, 2]) as tf.Tensor4D, labels: tf.tensor1d([0, 5], 'int32') };
    expect(() => r.trainer.trainStep(bad as never, 10)).toThrow(/holds 1 label\(s\) outside \[0, 3\) \(the model has 3 classes\)\. No update was applied/);
    expect(snapshot(r.trainer)).toEqual(before);
    tf.dispose([bad.images, bad.labels]);
    r.dispose();
  });
});
