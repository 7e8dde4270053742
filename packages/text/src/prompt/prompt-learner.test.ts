import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { expectClose, expectNoLeaks, relativeError, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClipTextEncoder } from '../clip-encoder';
import type { ClipTextConfig } from '../transformer/config';
import { createPromptLearner } from './prompt-learner';

const config: ClipTextConfig = {
  vocabSize: 64,
  width: 16,
  layers: 2,
  heads: 2,
  intermediateSize: 32,
  contextLength: 24,
  projectionDim: 8,
  layerNormEps: 1e-5,
  hiddenAct: 'quick_gelu',
  bosTokenId: 62,
  eosTokenId: 63,
};
const CLASSES = ['cat', 'big dog', 'ankle boot shoe', 'bird'];

beforeAll(useCpuBackend);

describe('prompt learner', () => {
  it('the shared-prefix, truncated and full 77-style passes, chunked or not, agree (values and context gradients), in every layout', async () => {
    const enc = createClipTextEncoder(config, 1);
    for (const classTokenPosition of ['end', 'front', 'middle'] as const) {
      for (const classSpecificContext of [false, true]) {
        const make = (pass: 'shared-prefix' | 'truncated' | 'full', classChunkSize?: number) =>
          createPromptLearner({ encoder: enc, classNames: CLASSES, numContext: 4, classTokenPosition, classSpecificContext, pass, seed: 7, ...(classChunkSize ? { classChunkSize } : {}) });
        // chunked learners recompute each chunk of classes in the backward pass (customGrad)
        const learners = [make('shared-prefix'), make('truncated'), make('full'), make('shared-prefix', 1), make('shared-prefix', 3), make('full', 3)];
        expect(learners[3]!.config.classChunkSize).toBe(1);
        const loss = (l: ReturnType<typeof make>) => () =>
          tf.tidy(() => {
            const { promptFeatures, classFeatures } = l.encode({ training: true });
            return tf.add(tf.sum(tf.square(promptFeatures)), tf.sum(tf.mul(classFeatures, 0.3)));
          }) as tf.Scalar;
        const results = await expectNoLeaks(() =>
          learners.map((l) => {
            const { value, grads } = tf.variableGrads(loss(l), l.trainableVariables());
            const g = grads[l.context.name]!;
            const out = { value: value.dataSync()[0]!, grad: g.dataSync().slice() };
            tf.dispose([value, g]);
            return out;
          }),
        );
        for (const r of results.slice(1)) {
          expect(r.value).toBeCloseTo(results[0]!.value, 4);
          expect(relativeError(r.grad, results[0]!.grad)).toBeLessThan(1e-4);
        }
        expect(Math.max(...results[0]!.grad.map(Math.abs))).toBeGreaterThan(1e-5);
        if (classTokenPosition === 'end' && !classSpecificContext) expect(learners[0]!.sharedPrefixLength).toBe(5);
        if (classSpecificContext) expect(learners[0]!.sharedPrefixLength).toBe(1);
        for (const l of learners) l.dispose();
      }
    }
    enc.dispose();
  });

  it('builds rotated variants: variant r equals a learner whose context is rolled by r', () => {
    const enc = createClipTextEncoder(config, 2);
    const a = createPromptLearner({ encoder: enc, classNames: CLASSES, numContext: 4, numVariants: 4, seed: 3 });
    const b = createPromptLearner({ encoder: enc, classNames: CLASSES, numContext: 4, numVariants: 1, seed: 99 });
    const fa = a.encode({ training: false });
    expect(fa.promptFeatures.shape).toEqual([4, 4, 8]);
    expect(fa.classFeatures.shape).toEqual([4, 8]);
    expectClose(fa.classFeatures, tf.slice(fa.promptFeatures, [0, 0, 0], [1, -1, -1]), { atol: 0 });
    const ctx = a.context.arraySync() as number[][];
    for (let r = 0; r < 4; r++) {
      const rolled = ctx.map((_, j) => ctx[(((j - r) % 4) + 4) % 4]!); // np.roll(ctx, r)
      b.context.assign(tf.tensor2d(rolled));
      const fb = b.encode({ training: false });
      expectClose(fb.classFeatures, tf.reshape(tf.slice(fa.promptFeatures, [r, 0, 0], [1, -1, -1]), [4, 8]), { atol: 1e-6, rtol: 1e-5 });
      tf.dispose([fb.classFeatures, fb.promptFeatures]);
    }
    // 'shift-one': every variant is roll(ctx, 1), so all are equal
    const c = createPromptLearner({ encoder: enc, classNames: CLASSES, numContext: 4, variants: 'shift-one', seed: 3 });
    const fc = c.encode({ training: false });
    expectClose(tf.slice(fc.promptFeatures, [0, 0, 0], [1, -1, -1]), tf.slice(fc.promptFeatures, [3, 0, 0], [1, -1, -1]), { atol: 1e-6 });
    expectClose(tf.slice(fc.promptFeatures, [0, 0, 0], [1, -1, -1]), tf.slice(fa.promptFeatures, [1, 0, 0], [1, -1, -1]), { atol: 1e-6, rtol: 1e-5 });
    tf.dispose([fa.classFeatures, fa.promptFeatures, fc.classFeatures, fc.promptFeatures]);
    for (const l of [a, b, c]) l.dispose();
    enc.dispose();
  });

  it('trains only the context vectors; gradient matches finite differences', () => {
    const enc = createClipTextEncoder(config, 3);
    const l = createPromptLearner({ encoder: enc, classNames: CLASSES, numContext: 3, seed: 4 });
    expect(l.trainableVariables()).toEqual([l.context]);
    expect(Object.keys(l.namedVariables())).toEqual(['prompt_learner.context']);
    expect(l.context.shape).toEqual([3, 16]);
    // the encoder holds no variables at all: nothing else can receive gradients
    const x = l.context.clone();
    const err = checkVariableGrad(l, x);
    expect(err).toBeLessThan(2e-2);
    x.dispose();
    l.dispose();
    enc.dispose();
  });

  it('rejects empty class names, prompts too long and bad options, naming the problem', () => {
    const enc = createClipTextEncoder(config, 4);
    expect(() => createPromptLearner({ encoder: enc, classNames: ['cat', ' '] })).toThrow(/class name 1 is empty/);
    expect(() => createPromptLearner({ encoder: enc, classNames: [] })).toThrow(/at least one class/);
    expect(() => createPromptLearner({ encoder: enc, classNames: ['cat', 'a b c d e f g h i j'], numContext: 12 })).toThrow(
      /class 1 \("a b c d e f g h i j"\) needs 25 tokens .* more than the context length 24/,
    );
    expect(() => createPromptLearner({ encoder: enc, classNames: ['cat'], numContext: 4, numVariants: 5 })).toThrow(/numVariants \(5\)/);
    expect(() => createPromptLearner({ encoder: enc, classNames: ['cat'], variants: 'spin' as 'rotate' })).toThrow(/Valid prompt variants modes: 'rotate', 'shift-one'/);
    expect(() => createPromptLearner({ encoder: enc, classNames: ['cat'], classTokenPosition: 'left' as 'end' })).toThrow(/Unknown class token position 'left'/);
    enc.dispose();
  });
});

/** Worst relative error between variableGrads and central differences on a few coordinates. */
function checkVariableGrad(l: ReturnType<typeof createPromptLearner>, x0: tf.Tensor): number {
  const w = tf.randomNormal([3, 4, 8], 0, 1, 'float32', 11);
  const loss = (): tf.Scalar => tf.tidy(() => tf.sum(tf.mul(l.encode({ training: true }).promptFeatures, w)));
  l.context.assign(x0);
  const { value, grads } = tf.variableGrads(loss, [l.context]);
  const g = grads[l.context.name]!.dataSync().slice();
  tf.dispose([value, grads[l.context.name]!]);
  const base = x0.dataSync().slice();
  const gmax = Math.max(...Array.from(g, Math.abs));
  const h = 2e-3;
  let worst = 0;
  for (const i of [0, 5, 17, 30, 47]) {
    const at = (d: number): number => {
      const v = base.slice();
      v[i] = v[i]! + d;
      l.context.assign(tf.tensor(v, x0.shape));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - g[i]!) / Math.max(Math.abs(fd), 0.05 * gmax));
  }
  w.dispose();
  return worst;
}
