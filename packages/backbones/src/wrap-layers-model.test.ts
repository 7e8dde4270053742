import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@lico/core';
import { ConfigError, NonFiniteError, ShapeError, UnknownNameError } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import { wrapLayersModel } from './index';

beforeAll(useCpuBackend);

/** input [8,8,2] → conv 'conv_a' → bn → conv 'feat' (+ skip from conv_a) → GAP → dense 'scores' [→ softmax]. */
function build(end: 'logits' | 'softmax-layer' | 'dense-softmax'): tfl.LayersModel {
  const inp = tfl.input({ shape: [8, 8, 2] });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a', kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }).apply(inp) as tfl.SymbolicTensor;
  const b = tfl.layers.batchNormalization({ name: 'bn', momentum: 0.9 }).apply(a) as tfl.SymbolicTensor;
  const c = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_b', kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }).apply(b) as tfl.SymbolicTensor;
  const s = tfl.layers.add({ name: 'skip' }).apply([b, c]) as tfl.SymbolicTensor;
  const f = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'feat', kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }).apply(s) as tfl.SymbolicTensor;
  const g = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(f) as tfl.SymbolicTensor;
  const d = tfl.layers.dense({ units: 3, name: 'scores', activation: end === 'dense-softmax' ? 'softmax' : 'linear', kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }), biasInitializer: 'ones' }).apply(g) as tfl.SymbolicTensor;
  const out = end === 'softmax-layer' ? (tfl.layers.softmax({ name: 'probs' }).apply(d) as tfl.SymbolicTensor) : d;
  return tfl.model({ inputs: inp, outputs: out });
}

const x = (): tf.Tensor4D => tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 5) as tf.Tensor4D;

describe('wrapLayersModel', () => {
  test('featureMap, embedding and logits equal the LayersModel; layer names; variables', async () => {
    const model = build('logits');
    const featModel = tfl.model({ inputs: model.inputs, outputs: model.getLayer('feat').output as tfl.SymbolicTensor });
    const m = wrapLayersModel(model, { featureLayer: 'feat' });
    expect(m.layerNames).toEqual(['conv_a', 'bn', 'conv_b', 'skip', 'feat']);
    expect(m.inputShape).toEqual([8, 8, 2]);
    expect(m.numClasses).toBe(3);
    const input = x();
    const out = await expectNoLeaks(() => m.forward(input, { training: false }));
    expectClose(out.logits, model.predict(x()) as tf.Tensor, { atol: 1e-6, rtol: 1e-5 });
    expectClose(out.featureMap, featModel.predict(x()) as tf.Tensor, { atol: 1e-6, rtol: 1e-5 });
    expect(out.featureMap.shape).toEqual([2, 4, 4, 6]);
    expectClose(out.embedding, tf.mean(out.featureMap, [1, 2]), { atol: 1e-6 });
    // conv 4*(3*3*2)+4, bn gamma/beta 8, conv_b 4*36+4, feat 6*36+6, dense 6*3+3
    expect(m.countParams()).toBe(76 + 8 + 148 + 222 + 21);
    expect(m.nonTrainableVariables().length).toBe(2);
    expect(Object.keys(m.namedVariables()).length).toBe(model.weights.length);
    m.dispose();
  });

  test('forwardTo + forwardFrom equal forward; a layer bypassed by a skip connection is a clear error', async () => {
    const m = wrapLayersModel(build('logits'), { featureLayer: 'feat' });
    const input = x();
    const full = m.forward(input, { training: false });
    for (const layer of ['bn', 'skip', 'feat']) {
      await expectNoLeaks(() => {
        const a = m.forwardTo(input, layer, { training: false });
        const rest = m.forwardFrom(a, layer, { training: false });
        expectClose(rest.logits, full.logits, { atol: 1e-6, rtol: 1e-5 });
        tf.dispose([a, rest.featureMap, rest.embedding, rest.logits]);
      });
    }
    const act = m.forwardTo(x(), 'conv_b', { training: false });
    expect(() => m.forwardFrom(act, 'conv_b', { training: false })).toThrow(ConfigError);
    // Gradients of a class score w.r.t. the feature map flow (what Grad-CAM needs).
    const fm = m.forwardTo(x(), 'feat', { training: false });
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.slice(m.forwardFrom(a as tf.Tensor4D, 'feat', { training: false }).logits, [0, 1], [2, 1])))(fm);
    expect(g.shape).toEqual([2, 4, 4, 6]);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    m.dispose();
  });

  test('training mode updates batch-norm moving statistics; inference does not', () => {
    const model = build('logits');
    const m = wrapLayersModel(model, { featureLayer: 'feat' });
    const mean = () => Array.from((model.getLayer('bn').getWeights()[2] as tf.Tensor).dataSync());
    const before = mean();
    m.forward(x(), { training: false });
    expect(mean()).toEqual(before);
    m.forward(x(), { training: true });
    expect(mean()).not.toEqual(before);
    m.dispose();
  });

  test('softmax outputs: a Softmax layer gives exact logits, a softmax Dense gives log-probabilities', () => {
    const plain = build('logits');
    const ref = plain.predict(x()) as tf.Tensor;
    const withLayer = build('softmax-layer');
    withLayer.setWeights(plain.getWeights());
    expectClose(wrapLayersModel(withLayer, { featureLayer: 'feat' }).forward(x(), { training: false }).logits, ref, { atol: 1e-6, rtol: 1e-5 });
    const dense = build('dense-softmax');
    dense.setWeights(plain.getWeights());
    const logits = wrapLayersModel(dense, { featureLayer: 'feat' }).forward(x(), { training: false }).logits;
    expectClose(logits, tf.logSoftmax(ref), { atol: 1e-5, rtol: 1e-5 });
  });

  test('bad feature layer, wrong input: clear errors', () => {
    expect(() => wrapLayersModel(build('logits'), { featureLayer: 'nope' })).toThrow(UnknownNameError);
    expect(() => wrapLayersModel(build('logits'), { featureLayer: 'gap' })).toThrow(ShapeError);
    expect(() => wrapLayersModel(build('logits'), { featureLayer: 'feat', numClasses: 5 })).toThrow(ConfigError);
    const m = wrapLayersModel(build('logits'), { featureLayer: 'feat' });
    expect(() => m.forward(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, { training: false })).toThrow(/2 channel/);
    expect(() => m.forward(tf.tensor4d(new Float32Array(128).map(() => Number.POSITIVE_INFINITY), [1, 8, 8, 2]), { training: false })).toThrow(NonFiniteError);
    expect(() => m.forwardTo(x(), 'gap', { training: false })).toThrow(UnknownNameError);
  });
});
