import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, UnknownNameError, type AlignmentInputs } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifoldMatchingLoss, type ManifoldMatchingSign } from './manifold-matching-loss';
import { createManifoldMatchingLoss, manifoldMatching } from './manifold-matching-plugin';
import { optimalTransportLoss } from './optimal-transport-loss';
import { createOptimalTransportLoss, optimalTransport } from './optimal-transport-plugin';

beforeAll(useCpuBackend);

function inputs(): AlignmentInputs {
  return {
    imageEmbeddings: tf.randomNormal([4, 6], 0, 1, 'float32', 1) as tf.Tensor2D,
    textEmbeddings: tf.randomNormal([4, 5], 0, 1, 'float32', 2) as tf.Tensor2D,
    imagePoints: tf.randomNormal([4, 6, 9], 0, 1, 'float32', 3) as tf.Tensor3D,
    textPoints: tf.randomNormal([4, 3, 9], 0, 1, 'float32', 4) as tf.Tensor3D,
    labels: tf.tensor1d([0, 1, 2, 1], 'int32'),
    temperature: tf.scalar(Math.log(1 / 0.07)),
  };
}

describe('alignment-loss plugins', () => {
  it('optimal transport: v1 plugin, config records every option, compute = optimalTransportLoss', async () => {
    const x = inputs();
    expect(optimalTransport.specificationVersion).toBe('v1');
    expect(optimalTransport.name).toBe('optimal-transport');
    expect(optimalTransport.config).toEqual({ epsilon: 0.1, maxIterations: 100, tolerance: 1e-3, differentiablePlan: false, implementation: 'auto' });
    const custom = createOptimalTransportLoss({ epsilon: 0.05, maxIterations: 10, tolerance: 0, differentiablePlan: true });
    expect(custom.config).toEqual({ epsilon: 0.05, maxIterations: 10, tolerance: 0, differentiablePlan: true, implementation: 'auto' });
    expectClose(optimalTransport.compute(x), optimalTransportLoss(x.imagePoints, x.textPoints));
    expectClose(custom.compute(x), optimalTransportLoss(x.imagePoints, x.textPoints, { epsilon: 0.05, maxIterations: 10, tolerance: 0, differentiablePlan: true }));
    await expectNoLeaks(() => custom.compute(x));
    expect(() => createOptimalTransportLoss({ epsilon: -1 })).toThrow(ConfigError);
    tf.dispose(Object.values(x));
  });

  it('manifold matching: v1 plugin, uses inputs.temperature, sign option validated', async () => {
    const x = inputs();
    expect(manifoldMatching.name).toBe('manifold-matching');
    expect(manifoldMatching.config).toEqual({ sign: 'negative' });
    const positive = createManifoldMatchingLoss({ sign: 'positive' });
    expect(positive.config).toEqual({ sign: 'positive' });
    expectClose(manifoldMatching.compute(x), manifoldMatchingLoss(x.imageEmbeddings, x.textEmbeddings, { temperature: x.temperature }));
    expectClose(positive.compute(x), manifoldMatchingLoss(x.imageEmbeddings, x.textEmbeddings, { temperature: x.temperature, sign: 'positive' }));
    await expectNoLeaks(() => positive.compute(x));
    expect(() => createManifoldMatchingLoss({ sign: 'up' as ManifoldMatchingSign })).toThrow(UnknownNameError);
    // gradient reaches the temperature through the plugin
    const g = tf.grad((t: tf.Tensor) => manifoldMatching.compute({ ...x, temperature: t as tf.Scalar }))(x.temperature);
    expect(Math.abs(g.dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([...Object.values(x), g]);
  });
});
