import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import type { BiasLayer, BiasTap } from '@lico/core';
import { expectClose, expectNoLeaks } from '@lico/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import { createPreActResNet, createResNet, createWideResNet, type BackboneClassifier } from './index';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/** Gives every batch norm seeded non-trivial statistics and affine parameters (so effective biases are not 0). */
function randomizeBatchNorms(model: BackboneClassifier): void {
  const vars = model.namedVariables();
  let seed = 11;
  for (const prefix of Object.keys(vars).filter((n) => n.endsWith('.running_mean')).map((n) => n.slice(0, -'.running_mean'.length))) {
    for (const [key, lo] of [['running_mean', -0.5], ['running_var', 0.5], ['weight', 0.5], ['bias', -0.5]] as const) {
      const v = vars[`${prefix}.${key}`]!;
      v.assign(tf.tidy(() => tf.randomUniform(v.shape, lo, lo + 1, 'float32', seed++)));
    }
  }
}

/** The models with their batch norms' ε. */
const models = (): [string, BackboneClassifier, number][] => [
  ['resnet18-cifar', createResNet({ depth: 18, numClasses: 4, stem: 'cifar', seed: 1 }), 1e-5],
  ['wrn-10-2', createWideResNet({ depth: 10, widen: 2, numClasses: 4, seed: 2 }), 1e-3],
  ['preact-resnet18', createPreActResNet({ numClasses: 4, seed: 3 }), 1e-5],
];

describe('forwardWithBiasTaps (every conv with a bias, every batch norm)', () => {
  test('an identity tap gives forward(training: false) exactly; layers, kinds, effective biases; no leaks', async () => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (const [label, model, epsilon] of models()) {
      randomizeBatchNorms(model);
      const vars = model.namedVariables();
      const seen: { name: string; kind: BiasLayer['kind']; bias: number[]; channels: number }[] = [];
      const tap: BiasTap = (layer, output) => {
        seen.push({ name: layer.name, kind: layer.kind, bias: Array.from(layer.bias.dataSync()), channels: output.shape[3] });
        return output;
      };
      const plain = model.forward(x, { training: false });
      const tapped = await expectNoLeaks(() => model.forwardWithBiasTaps(x, tap));
      expectClose(tapped.logits, plain.logits, { atol: 0 });
      expectClose(tapped.featureMap, plain.featureMap, { atol: 0 });
      tf.dispose([plain, tapped] as unknown as tf.TensorContainer);
      // Every biased layer (prefix of a `.bias` variable, the head excepted), in variable order, except
      // the WideResNet batch norms whose output the reference leaves unused.
      const biased = Object.keys(vars)
        .filter((n) => n.endsWith('.bias') && n !== 'fc.bias' && n !== 'linear.bias')
        .map((n) => n.slice(0, -'.bias'.length));
      const unused = label === 'wrn-10-2' ? ['block2.layer.0.bn1', 'block3.layer.0.bn1'] : [];
      expect(seen.map((s) => s.name), label).toEqual(biased.filter((n) => !unused.includes(n)));
      if (label === 'resnet18-cifar') expect(seen).toHaveLength(20);
      if (label === 'wrn-10-2') expect(seen.filter((s) => s.kind === 'conv').map((s) => s.name)).toContain('block1.layer.0.convShortcut');
      for (const s of seen) {
        expect(s.kind, s.name).toBe(vars[`${s.name}.running_mean`] ? 'batch-norm' : 'conv');
        expect(s.bias).toHaveLength(s.channels);
        const beta = vars[`${s.name}.bias`]!.dataSync();
        if (s.kind === 'conv') {
          expectClose(s.bias, beta, { atol: 0 });
          continue;
        }
        const [mean, variance, gamma] = ['running_mean', 'running_var', 'weight'].map((k) => vars[`${s.name}.${k}`]!.dataSync());
        expectClose(s.bias, Array.from(beta, (bt, c) => bt - (mean![c]! * gamma![c]!) / Math.sqrt(variance![c]! + epsilon)), { atol: 1e-6 });
      }
      model.dispose();
    }
    x.dispose();
  });

  test("the tap's result is what the network continues with (all batch norms zeroed: ResNet logits = fc.bias)", () => {
    const model = createResNet({ depth: 18, numClasses: 3, stem: 'cifar', seed: 4 });
    randomizeBatchNorms(model);
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const out = model.forwardWithBiasTaps(x, (_, output) => tf.zerosLike(output));
    expectClose(out.logits, Array.from(model.namedVariables()['fc.bias']!.dataSync()), { atol: 1e-7 });
    tf.dispose([out, x] as unknown as tf.TensorContainer);
    model.dispose();
  });

  test("only this model's layers are tapped (another model's forward inside the tap is not); the tap ends with the call, also on a throw", () => {
    const a = createResNet({ depth: 18, numClasses: 3, stem: 'cifar', seed: 7 });
    const b = createWideResNet({ depth: 10, widen: 1, numClasses: 3, seed: 8 });
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const names: string[] = [];
    const out = a.forwardWithBiasTaps(x, (layer, output) => {
      names.push(layer.name);
      if (names.length === 1) tf.dispose(b.forward(x, { training: false }) as unknown as tf.TensorContainer);
      return output;
    });
    tf.dispose(out as unknown as tf.TensorContainer);
    expect(names).toHaveLength(20);
    expect(() =>
      a.forwardWithBiasTaps(x, () => {
        throw new Error('tap failed');
      }),
    ).toThrow('tap failed');
    let calls = 0;
    tf.dispose(b.forwardWithBiasTaps(x, (_, o) => (calls++, o)) as unknown as tf.TensorContainer);
    const afterTappedPass = calls;
    expect(afterTappedPass).toBeGreaterThan(0);
    tf.dispose([a.forward(x, { training: false }), b.forward(x, { training: false })] as unknown as tf.TensorContainer);
    expect(calls).toBe(afterTappedPass);
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });
});
