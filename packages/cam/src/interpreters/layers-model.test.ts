/** The interpreters on a wrapped `tf.LayersModel` (`wrapLayersModel` of @lico/backbones). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@lico/core';
import { wrapLayersModel } from '@lico/backbones';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { minMaxNormalize } from '../common';
import { gradCam } from './grad-cam';
import { createInterpreter, INTERPRETER_NAMES } from './plugins';

beforeAll(useCpuBackend);

function build(): tfl.LayersModel {
  const inp = tfl.input({ shape: [6, 6, 2] });
  const a = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a', kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }).apply(inp) as tfl.SymbolicTensor;
  const f = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'feat', kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }), biasInitializer: 'ones' }).apply(a) as tfl.SymbolicTensor;
  const g = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(f) as tfl.SymbolicTensor;
  const d = tfl.layers.dense({ units: 3, name: 'scores', kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }).apply(g) as tfl.SymbolicTensor;
  return tfl.model({ inputs: inp, outputs: d });
}

describe('wrapped tf.LayersModel', () => {
  it('Grad-CAM equals the closed form of a GAP + dense head', async () => {
    const layers = build();
    const model = wrapLayersModel(layers, { featureLayer: 'feat' });
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const targets = [0, 2];
    const features = tfl.model({ inputs: layers.inputs, outputs: layers.getLayer('feat').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor4D;
    const kernel = layers.getLayer('scores').getWeights()[0]!; // [4,3]
    const expected = tf.tidy(() => {
      const w = tf.transpose(tf.gather(tf.transpose(kernel), targets)); // [4,N]
      const alpha = tf.div(tf.transpose(w), 9); // [N,4], Z = 3·3
      const cam = tf.relu(tf.sum(tf.mul(features, tf.reshape(alpha, [2, 1, 1, 4])), 3)) as tf.Tensor3D;
      return minMaxNormalize(cam);
    });
    const ours = await gradCam(model, x, { targets, upsample: 'none' });
    expect(ours.shape).toEqual([2, 3, 3]);
    expectClose(ours, expected, { atol: 1e-5 });
    const full = await gradCam(model, x, { targets });
    expect(full.shape).toEqual([2, 6, 6]);
  });

  it('every interpreter runs by name, leak-free, with maps in [0,1] (FullGrad: a ConfigError, no bias taps)', async () => {
    const model = wrapLayersModel(build(), { featureLayer: 'feat' });
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (const name of INTERPRETER_NAMES) {
      const interpreter = createInterpreter(name, name === 'rise' ? { numMasks: 20, gridSize: 3 } : {});
      if (name === 'fullGrad') {
        // a wrapped LayersModel has no forwardWithBiasTaps (its layers' bias and activation are one call)
        await expect(interpreter.explain(model, x)).rejects.toThrow(/lacks the optional ImageClassifier method forwardWithBiasTaps/);
        continue;
      }
      const maps = await expectNoLeaks(() => interpreter.explain(model, x));
      expect(maps.shape).toEqual([2, 6, 6]);
      const v = maps.dataSync();
      expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...v)).toBeLessThanOrEqual(1);
      maps.dispose();
    }
  });

  it('an unwrapped tf.LayersModel is a named error that says how to wrap it (every interpreter)', async () => {
    const layers = build();
    const x = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    await expect(gradCam(layers as never, x, { targets: [0] })).rejects.toThrow(/plain tf\.LayersModel.*wrapLayersModel\(model, \{ featureLayer/);
    for (const name of INTERPRETER_NAMES) {
      await expect((createInterpreter(name as never) as { explain(m: unknown, x: tf.Tensor4D, o: unknown): Promise<unknown> }).explain(layers, x, { targets: [0] })).rejects.toThrow(/wrapLayersModel/);
    }
    tf.dispose(x);
    layers.dispose();
  });
});
