import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeaks, gradientCheck, useCpuBackend } from '@lico/testing';
import '../register-gradients';
import { ConfigError } from '../errors';
import type { AlignmentInputs, AlignmentLoss } from '../spec';
import { backendAdvice, createBaselineObjective, createLicoObjective, DEFAULT_TEMPERATURE } from './lico-objective';
import { countCorrect, softmaxCrossEntropy } from './cross-entropy';
import {
  createStandInMappingNet,
  createStandInMm,
  createStandInOt,
  createStandInPromptLearner,
  createTinyClassifier,
} from '../trainer/__fixtures__/stand-ins';

await useCpuBackend();

function fixedLoss(name: string, value: number, read: (inp: AlignmentInputs) => void = () => {}): AlignmentLoss {
  return { specificationVersion: 'v1', name, config: { value }, compute: (inp) => (read(inp), tf.scalar(value)) };
}

function batch(n = 4) {
  const images = tf.randomNormal([n, 6, 6, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 2) % 3), 'int32');
  return { images, labels };
}

describe('softmaxCrossEntropy', () => {
  it('matches the closed form -log softmax at the label', () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const labels = tf.tensor1d([2, 1], 'int32');
    const l0 = -(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
    const l1 = Math.log(3);
    expectClose(softmaxCrossEntropy(logits, labels), (l0 + l1) / 2);
    expect(countCorrect(logits, labels).dataSync()[0]).toBe(1);
  });
});

describe('createLicoObjective', () => {
  it('total = ce + alpha*mm + beta*ot, with the text side built as the spec says', () => {
    const model = createTinyClassifier();
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    let seen: { textPoints: number[][][]; imagePoints: number[][][]; textEmbeddings: number[][]; tau: number } | undefined;
    const ot = fixedLoss('ot-fixed', 0.25, (inp) => {
      seen = {
        textPoints: inp.textPoints.arraySync(),
        imagePoints: inp.imagePoints.arraySync(),
        textEmbeddings: inp.textEmbeddings.arraySync(),
        tau: inp.temperature.dataSync()[0]!,
      };
    });
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: fixedLoss('mm-fixed', 0.5), ot, alpha: 10, beta: 2 });
    const { images, labels } = batch();
    const out = model.forward(images, { training: false });
    const terms = objective.computeLoss(out, labels, { training: false });
    const ce = softmaxCrossEntropy(out.logits, labels).dataSync()[0]!;
    expectClose(terms.ce, ce);
    expectClose(terms.mm, 0.5);
    expectClose(terms.ot, 0.25);
    expectClose(terms.total, ce + 10 * 0.5 + 2 * 0.25);

    // textPoints[i] = mappingNet(promptFeatures)[:, y_i, :]; imagePoints[i][c][p] = featureMap[i, p/W, p%W, c].
    const pf = promptLearner.encode({ training: false });
    const points = mappingNet.apply(pf.promptFeatures, { training: false }).arraySync();
    const fm = out.featureMap.arraySync();
    const y = Array.from(labels.dataSync());
    const cls = pf.classFeatures.arraySync();
    expect(seen!.tau).toBeCloseTo(DEFAULT_TEMPERATURE, 6);
    for (let i = 0; i < y.length; i++) {
      expect(seen!.textEmbeddings[i]).toEqual(cls[y[i]!]);
      for (let m = 0; m < 2; m++) expect(seen!.textPoints[i]![m]).toEqual(points[m]![y[i]!]);
      for (let c = 0; c < 4; c++) for (let p = 0; p < 9; p++) expect(seen!.imagePoints[i]![c]![p]).toBe(fm[i]![Math.floor(p / 3)]![p % 3]![c]);
    }
    expect(objective.config).toMatchObject({ mode: 'lico', alpha: 10, beta: 2, mm: { name: 'mm-fixed' }, ot: { name: 'ot-fixed' } });
    expect(JSON.parse(JSON.stringify(objective.config))).toEqual(objective.config);
    objective.dispose();
  });

  it('exposes its own trainable variables: context vectors, mapping net, temperature', () => {
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    const tau = tf.variable(tf.scalar(2), true, 'objective-test-tau');
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: createStandInOt(), temperature: tau });
    const vars = objective.trainableVariables();
    expect(vars).toEqual([...promptLearner.trainableVariables(), mappingNet.weight, tau]);
    expect(Object.keys(objective.namedVariables()).sort()).toEqual(['mappingNet/weight', 'promptLearner/ctx', 'temperature/tau']);
    const constant = createLicoObjective({ promptLearner, mm: createStandInMm(), temperature: 0.5 });
    expect(constant.trainableVariables()).toEqual(promptLearner.trainableVariables());
    constant.dispose();
    tau.dispose();
  });

  it('checks that the mapping net output size equals H*W and names both numbers', () => {
    const model = createTinyClassifier();
    const objective = createLicoObjective({ promptLearner: createStandInPromptLearner(), mappingNet: createStandInMappingNet({ outputDim: 49 }), ot: createStandInOt() });
    const { images, labels } = batch();
    const out = model.forward(images, { training: false });
    expect(() => objective.computeLoss(out, labels, { training: false })).toThrow(ConfigError);
    expect(() => objective.computeLoss(out, labels, { training: false })).toThrow(/\(49\).*H\*W = 3\*3 = 9/);
  });

  it('rejects incomplete configurations with a ConfigError', () => {
    expect(() => createLicoObjective({})).toThrow(/promptLearner/);
    expect(() => createLicoObjective({ promptLearner: createStandInPromptLearner() })).toThrow(/alignment loss/);
    expect(() => createLicoObjective({ promptLearner: createStandInPromptLearner(), ot: createStandInOt() })).toThrow(/mappingNet/);
    expect(() => createLicoObjective({ promptLearner: createStandInPromptLearner(), mm: createStandInMm(), alpha: -1 })).toThrow(/alpha/);
    expect(() => createLicoObjective({ promptLearner: createStandInPromptLearner({ dim: 5 }), mappingNet: createStandInMappingNet({ inputDim: 6 }), ot: createStandInOt() })).toThrow(/width 6.*width 5/);
    expect(() => createLicoObjective({ mode: 'fancy' as 'lico' })).toThrow(ConfigError);
  });

  it('baseline mode: CE only, no text side, same code path', () => {
    const model = createTinyClassifier();
    const objective = createBaselineObjective();
    const { images, labels } = batch();
    const out = model.forward(images, { training: false });
    const terms = objective.computeLoss(out, labels, { training: true });
    expectClose(terms.total, softmaxCrossEntropy(out.logits, labels));
    expect(terms.mm.dataSync()[0]).toBe(0);
    expect(terms.ot.dataSync()[0]).toBe(0);
    expect(objective.trainableVariables()).toEqual([]);
    expect(objective.namedVariables()).toEqual({});
    expect(objective.config).toMatchObject({ mode: 'baseline', textSide: null });
    expect(createLicoObjective({ mode: 'baseline' }).config).toEqual(objective.config);
  });

  it('is leak-free and differentiable: finite-difference check of d total / d ctx', async () => {
    const model = createTinyClassifier();
    const promptLearner = createStandInPromptLearner();
    const mappingNet = createStandInMappingNet();
    const objective = createLicoObjective({ promptLearner, mappingNet, mm: createStandInMm(), ot: createStandInOt() });
    const { images, labels } = batch();
    await expectNoLeaks(() => tf.tidy(() => objective.computeLoss(model.forward(images, { training: false }), labels, { training: false }).total));
    const ctx = promptLearner.trainableVariables()[0]!;
    const original = ctx.clone();
    // variableGrads w.r.t. the context vectors vs central differences of the loss value.
    const { grads } = tf.variableGrads(() => objective.computeLoss(model.forward(images, { training: false }), labels, { training: false }).total, [ctx]);
    const analytic = grads[ctx.name]!.dataSync().slice();
    tf.dispose(Object.values(grads));
    const h = 1e-2;
    const base = original.dataSync().slice();
    let worst = 0;
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number): number => {
        const d = base.slice();
        d[i]! += delta;
        ctx.assign(tf.tensor(d, ctx.shape));
        return tf.tidy(() => objective.computeLoss(model.forward(images, { training: false }), labels, { training: false }).total.dataSync()[0]!);
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - analytic[i]!) / Math.max(1e-3, Math.abs(fd)));
    }
    ctx.assign(original);
    expect(worst).toBeLessThan(2e-2);
    expect(gradientCheck((x) => softmaxCrossEntropy(x as tf.Tensor2D, labels), tf.randomNormal([4, 3], 0, 1, 'float32', 2))).toBeLessThan(2e-2);
  });
});

describe('createLicoObjective: stock backends', () => {
  it('backendAdvice names the missing wasm training kernels of stock tfjs-backend-wasm, and says nothing once they are registered', () => {
    const stock = backendAdvice('wasm', 'baseline');
    expect(stock).toMatch(/stock tfjs-backend-wasm, without the training kernels 'Conv2DBackpropFilter', 'UnsortedSegmentSum'.*useBackend\('wasm'\)/);
    const fake = (kernelName: string) => ({ kernelName, backendName: 'wasm', kernelFunc: () => ({ dataId: {}, shape: [], dtype: 'float32' as const }) });
    tf.registerKernel(fake('Conv2DBackpropFilter'));
    try {
      expect(backendAdvice('wasm', 'lico')).toMatch(/without the training kernels 'UnsortedSegmentSum' \(/);
      tf.registerKernel(fake('UnsortedSegmentSum'));
      expect(backendAdvice('wasm', 'lico')).toBeUndefined();
    } finally {
      tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
      if (tf.getKernel('UnsortedSegmentSum', 'wasm')) tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
    }
    expect(backendAdvice('cpu', 'lico')).toMatch(/pure-JavaScript 'cpu' backend/);
    expect(backendAdvice('cpu', 'baseline')).toBeUndefined();
    expect(backendAdvice('webgl', 'lico')).toBeUndefined();
  });

  it("tfjs's 'Kernel not registered' becomes a ConfigError that says to use @lico/backends; cpu warns once", async () => {
    await useCpuBackend();
    const broken: AlignmentLoss = {
      specificationVersion: 'v1',
      name: 'needs-a-kernel',
      config: {},
      compute: () => {
        throw new Error("Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'");
      },
    };
    const promptLearner = createStandInPromptLearner();
    const objective = createLicoObjective({ promptLearner, mm: broken });
    const model = createTinyClassifier();
    const x = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1], 'int32');
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => void warnings.push(m);
    try {
      const out = model.forward(x, { training: false });
      expect(() => objective.computeLoss(out, y)).toThrow(ConfigError);
      expect(() => objective.computeLoss(out, y)).toThrow(/The 'wasm' backend has no 'UnsortedSegmentSum' kernel.*useBackend\('wasm'\)/);
    } finally {
      console.warn = warn;
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/pure-JavaScript 'cpu' backend.*useBackend\('wasm'\)/);
    // A label outside the classes, where a loss gathers by label: named, not GatherV2's words.
    const gathering = createLicoObjective({ promptLearner, mm: createStandInMm() });
    const out2 = model.forward(x, { training: false });
    const wrong = tf.tensor1d([0, 7], 'int32');
    expect(() => gathering.computeLoss(out2, wrong)).toThrow(/labels hold class 7, outside \[0, 3\)/);
    tf.dispose([wrong]);
    gathering.dispose();
    tf.dispose([x, y]);
    objective.dispose();
    promptLearner.dispose();
    model.dispose();
  });
});
