/**
 * FullGrad: parity with pytorch-grad-cam's `FullGrad` on the seeded torchvision ResNet-18 of the
 * other parity tests (formula weights, the 2 formula images; golden
 * `__golden__/pytorch-grad-cam-fullgrad.json` from `tools/reference/cam-pytorch-grad-cam-fullgrad.py`),
 * the completeness of the full-gradient decomposition on that model, a closed form on a tiny model,
 * no leaks, and the typed error for a model without `forwardWithBiasTaps`. Runs on wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { ConfigError, encodeSafetensors, type ImageClassifier } from '@lico/core';
import { createWideResNet, loadTorchWeights, type BackboneClassifier } from '@lico/backbones';
import { expectClose, expectNoLeaks, loadGolden } from '@lico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NORMALIZE_EPSILON } from '../common';
import { createParityResNet, parityInput, parityStateDict, stridedMaxAbsDiff, type PytorchGradCamGolden } from '../testing/pytorch-grad-cam-checks';
import { linearGapClassifier, sequentialClassifier } from '../testing/tiny-classifiers';
import { fullGrad, fullGradients } from './full-grad';
import { createInterpreter } from './plugins';

interface Golden extends PytorchGradCamGolden {
  bias_layers: string[];
  pairing_check: number;
  completeness_residual_float64: number;
}
const golden = loadGolden<Golden>(new URL('../__golden__/pytorch-grad-cam-fullgrad.json', import.meta.url));

/**
 * Max |ours − pytorch-grad-cam| of the [0,1] map (strided golden, rounded to 6 decimals there).
 * Measured on wasm: 1.2e-6 (the golden's rounding). Every channel of the 20 batch norms is min–max
 * normalised on its own before the sum, which can magnify float32 differences in channels of small
 * range, hence the margin.
 */
const FULLGRAD_TOLERANCE = 1e-5;
/** Completeness residual relative to max(1, |logit|) (float32 sums over the input and 20 layers). Measured on wasm: 2.3e-7 (PyTorch in float64: 3.9e-8). */
const COMPLETENESS_TOLERANCE = 1e-5;

let model: BackboneClassifier;
let x: tf.Tensor4D;
beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  // the formula weights through loadTorchWeights, from in-memory .safetensors bytes
  model = createParityResNet();
  await loadTorchWeights(model, encodeSafetensors(parityStateDict(model)));
  x = parityInput(golden);
});
afterAll(() => {
  model?.dispose();
  x?.dispose();
});

describe('FullGrad: parity with pytorch-grad-cam (ResNet-18, formula weights, 2×3×64×64)', () => {
  it('the reference pairs each bias with its own layer, and taps the same 20 batch norms in the same order', async () => {
    expect(golden.pairing_check).toBe(0);
    const grads = fullGradients(model, x, golden.targets);
    try {
      expect(grads.layers.map((l) => l.name)).toEqual(golden.bias_layers);
      expect(grads.layers.every((l) => l.kind === 'batch-norm')).toBe(true);
    } finally {
      tf.dispose([grads.inputGradient, ...grads.layers.flatMap((l) => [l.bias, l.gradient])]);
    }
  });

  it(`the map within ${FULLGRAD_TOLERANCE} of pytorch-grad-cam's FullGrad, no tensor left behind`, async () => {
    const map = await expectNoLeaks(() => fullGrad(model, x, { targets: golden.targets }));
    expect(map.shape).toEqual([2, 64, 64]);
    const diff = await stridedMaxAbsDiff(map, golden.maps.fullGrad!, golden.stride);
    map.dispose();
    console.log(`fullGrad: max |ours − pytorch-grad-cam| = ${diff.toExponential(2)} (tolerance ${FULLGRAD_TOLERANCE})`);
    expect(diff).toBeLessThan(FULLGRAD_TOLERANCE);
    // the registry's interpreter gives the same map
    const viaRegistry = await createInterpreter('fullGrad').explain(model, x, { targets: golden.targets });
    const again = await fullGrad(model, x, { targets: golden.targets });
    expectClose(viaRegistry, again, { atol: 0 });
    tf.dispose([viaRegistry, again]);
  });

  it('completeness: Σ x·∂y/∂x + Σ_layers Σ b·∂y/∂z + fc.bias = the target logit (ReLU network, batch norm folded)', async () => {
    const grads = await expectNoLeaks(() => fullGradients(model, x, golden.targets));
    const fcBias = await model.namedVariables()['fc.bias']!.data();
    const total = tf.tidy(() => {
      let t = tf.sum(tf.mul(grads.inputGradient, x), [1, 2, 3]);
      for (const l of grads.layers) t = tf.add(t, tf.sum(tf.mul(l.gradient, l.bias), [1, 2, 3]));
      return t;
    });
    const sums = await total.data();
    const k = model.numClasses;
    let worst = 0;
    golden.targets.forEach((t, i) => {
      const logit = golden.logits[i * k + t]!;
      worst = Math.max(worst, Math.abs(sums[i]! + fcBias[t]! - logit) / Math.max(1, Math.abs(logit)));
    });
    console.log(`fullGradients completeness: worst relative residual ${worst.toExponential(2)} (tolerance ${COMPLETENESS_TOLERANCE}; PyTorch float64: ${golden.completeness_residual_float64.toExponential(2)})`);
    expect(worst).toBeLessThan(COMPLETENESS_TOLERANCE);
    tf.dispose([total, grads.inputGradient, ...grads.layers.flatMap((l) => [l.bias, l.gradient])]);
  });
});

// On cpu: the gradient of a fused conv with bias also computes the filter's, and plain
// tfjs-backend-wasm has no Conv2DBackpropFilter (@lico/backends adds it).
describe('FullGrad on a WideResNet (convolutions with bias, LeakyReLU; cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });
  it('is complete (LeakyReLU is piecewise linear) and gives [N,H,W] maps in [0,1] without leaks', async () => {
    const wrn = createWideResNet({ depth: 10, widen: 1, numClasses: 3, seed: 5 });
    const vars = wrn.namedVariables();
    let seed = 1;
    for (const [name, v] of Object.entries(vars)) {
      if (!/\.(running_mean|running_var|bias)$/.test(name) || !vars[name.replace(/\.[a-z_]+$/, '.running_mean')]) continue;
      v.assign(tf.tidy(() => tf.randomUniform(v.shape, name.endsWith('var') ? 0.5 : -0.5, name.endsWith('var') ? 1.5 : 0.5, 'float32', seed++)));
    }
    const images = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const targets = [0, 2];
    const grads = fullGradients(wrn, images, targets);
    expect(grads.layers.filter((l) => l.kind === 'conv').length).toBeGreaterThan(0);
    const logits = tf.tidy(() => wrn.forward(images, { training: false }).logits);
    const total = tf.tidy(() => {
      let t = tf.sum(tf.mul(grads.inputGradient, images), [1, 2, 3]);
      for (const l of grads.layers) t = tf.add(t, tf.sum(tf.mul(l.gradient, l.bias), [1, 2, 3]));
      return t;
    });
    const [sums, out, fcBias] = [await total.data(), await logits.data(), await vars['fc.bias']!.data()];
    targets.forEach((t, i) => expect(Math.abs(sums[i]! + fcBias[t]! - out[i * 3 + t]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(out[i * 3 + t]!))));
    const map = await expectNoLeaks(() => fullGrad(wrn, images, { targets }));
    expect(map.shape).toEqual([2, 8, 8]);
    const values = await map.data();
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    tf.dispose([map, images, logits, total, grads.inputGradient, ...grads.layers.flatMap((l) => [l.bias, l.gradient])]);
    wrn.dispose();
  });
});

describe('FullGrad: closed form and contract', () => {
  // x: 3×4 pixels p/12; conv 1×1 with weights a = [1, −1], bias b = [−0.5, 0.25] (tapped), ReLU,
  // global average pool, head W [2,K=2]. So for target 0: ∂y/∂z_c = W[c][0]/12 · [z_c > 0],
  // ∂y/∂x = Σ_c a_c ∂y/∂z_c. A second tapped conv whose output is unused gets a zero gradient.
  const a = [1, -1];
  const b = [-0.5, 0.25];
  const W = [
    [2, -1],
    [1, 3],
  ];
  const pixels = Array.from({ length: 12 }, (_, p) => p / 12);
  const tinyModel = (): ImageClassifier => {
    const filter = tf.keep(tf.tensor4d(a, [1, 1, 1, 2]));
    const bias = tf.keep(tf.tensor1d(b));
    const head = tf.keep(tf.tensor2d(W.flat(), [2, 2]));
    const conv = (input: tf.Tensor4D) => tf.add(tf.conv2d(input, filter as tf.Tensor4D, 1, 'valid'), bias) as tf.Tensor4D;
    return sequentialClassifier({
      name: 'tiny-bias',
      inputShape: [3, 4, 1],
      numClasses: 2,
      stages: [
        {
          name: 'conv',
          apply: (input) => tf.relu(conv(input)),
          applyWithTaps: (input, tap) => {
            tap({ name: 'unused', kind: 'conv', bias: bias as tf.Tensor1D }, conv(input));
            return tf.relu(tap({ name: 'conv', kind: 'conv', bias: bias as tf.Tensor1D }, conv(input)));
          },
        },
      ],
      head: (f) => tf.matMul(tf.mean(f, [1, 2]) as tf.Tensor2D, head as tf.Tensor2D) as tf.Tensor2D,
    });
  };

  it('matches the closed form (per-channel min–max with eps 1e-7, sum, min–max)', async () => {
    const m = tinyModel();
    const input = tf.tensor4d(pixels, [1, 3, 4, 1]);
    const mask = (c: number) => pixels.map((v) => (a[c]! * v + b[c]! > 0 ? 1 : 0));
    const gz = [0, 1].map((c) => mask(c).map((on) => (on * W[c]![0]!) / 12));
    const gx = pixels.map((_, p) => a[0]! * gz[0]![p]! + a[1]! * gz[1]![p]!);
    const normalize = (v: number[]) => {
      const lo = Math.min(...v);
      const hi = Math.max(...v.map((u) => u - lo));
      return v.map((u) => (u - lo) / (hi + NORMALIZE_EPSILON));
    };
    const terms = [normalize(pixels.map((v, p) => Math.abs(v * gx[p]!))), ...[0, 1].map((c) => normalize(gz[c]!.map((g) => Math.abs(g * b[c]!))))];
    const raw = pixels.map((_, p) => terms.reduce((s, t) => s + t[p]!, 0));
    const ours = await expectNoLeaks(() => fullGrad(m, input, { targets: [0], normalize: false }));
    expectClose(ours, raw, { atol: 1e-5 });
    expectClose(await fullGrad(m, input, { targets: [0] }), normalize(raw), { atol: 1e-5 });
    const grads = fullGradients(m, input, [0]);
    expect(grads.layers.map((l) => l.name)).toEqual(['unused', 'conv']);
    expectClose(grads.layers[0]!.gradient, new Array(24).fill(0), { atol: 0 });
    expectClose(grads.inputGradient, gx, { atol: 1e-6 });
    tf.dispose([input, grads.inputGradient, ...grads.layers.flatMap((l) => [l.bias, l.gradient])]);
  });

  it('a batch equals its images one at a time; a model without forwardWithBiasTaps gets a ConfigError naming it', async () => {
    const m = tinyModel();
    const batch = tf.tensor4d([...pixels, ...pixels.map((v) => 1 - v)], [2, 3, 4, 1]);
    const both = await fullGrad(m, batch, { targets: [0, 1] });
    for (let i = 0; i < 2; i++) {
      const single = await fullGrad(m, tf.slice(batch, [i, 0, 0, 0], [1, -1, -1, -1]), { targets: [i] });
      expectClose(single, tf.slice(both, [i, 0, 0], [1, -1, -1]), { atol: 1e-6 });
    }
    const { forwardWithBiasTaps: _, ...withoutTaps } = linearGapClassifier(W, 3, 4) as ImageClassifier & { forwardWithBiasTaps: unknown };
    const plain = withoutTaps as ImageClassifier;
    const image = tf.zeros([1, 3, 4, 2]) as tf.Tensor4D;
    await expect(fullGrad(plain, image)).rejects.toThrow(ConfigError);
    await expect(fullGrad(plain, image)).rejects.toThrow(/forwardWithBiasTaps/);
    expect(() => fullGradients(plain, image, [0])).toThrow(/lacks the optional ImageClassifier method forwardWithBiasTaps/);
    tf.dispose([batch, both, image]);
  });
});
