import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMappingNet } from './mapping-net';
import { createTemperature } from './temperature';

beforeAll(useCpuBackend);

describe('mapping net h_ψ', () => {
  it('computes Linear → ReLU → Linear in eval mode (closed form with set weights)', async () => {
    const net = createMappingNet({ inputDim: 2, outputDim: 3, hidden: 2, seed: 1 });
    const v = net.namedVariables();
    v['mapping.fc1.weight']!.assign(tf.tensor2d([[1, -1], [2, 0.5]])); // [in,out]
    v['mapping.fc1.bias']!.assign(tf.tensor1d([0, -1]));
    v['mapping.fc2.weight']!.assign(tf.tensor2d([[1, 0, 2], [0, 1, -1]]));
    v['mapping.fc2.bias']!.assign(tf.tensor1d([0.5, 0, 0]));
    const x = tf.tensor3d([[[1, 1]], [[-1, 2]]]); // [M=2,K=1,D=2]
    const y = await expectNoLeaks(() => net.apply(x, { training: false }));
    // row (1,1): h = relu([3, -1.5]) = [3,0] → [3.5, 0, 6]; row (-1,2): h = relu([3, 1]) → [3.5, 1, 5]
    expect(y.shape).toEqual([2, 1, 3]);
    expectClose(y, [3.5, 0, 6, 3.5, 1, 5], { atol: 1e-6 });
    tf.dispose([x, y]);
    net.dispose();
  });

  it('initialises as nn.Linear, applies seeded dropout in training only, trains its 4 variables', () => {
    const net = createMappingNet({ inputDim: 64, outputDim: 49, seed: 2 });
    expect(net.config).toEqual({ inputDim: 64, outputDim: 49, hidden: 512, dropout: 0.5, seed: 2 });
    const w1 = net.namedVariables()['mapping.fc1.weight']!;
    expect(w1.shape).toEqual([64, 512]);
    const max = tf.max(tf.abs(w1)).dataSync()[0]!;
    expect(max).toBeLessThanOrEqual(1 / 8);
    expect(max).toBeGreaterThan(0.12);
    expect(net.trainableVariables()).toHaveLength(4);
    const x = tf.randomNormal([3, 5, 64], 0, 1, 'float32', 3) as tf.Tensor3D;
    const e1 = net.apply(x, { training: false });
    const e2 = net.apply(x, { training: false });
    expectClose(e1, e2, { atol: 0 });
    const t1 = net.apply(x, { training: true });
    const t2 = net.apply(x, { training: true });
    expect(tf.max(tf.abs(tf.sub(t1, t2))).dataSync()[0]).toBeGreaterThan(1e-3);
    const again = createMappingNet({ inputDim: 64, outputDim: 49, seed: 2 });
    expectClose(again.apply(x, { training: true }), t1, { atol: 0 });
    expect(() => net.apply(tf.zeros([2, 63]) as unknown as tf.Tensor3D, { training: false })).toThrow(/rank 3/);
    expect(() => net.apply(tf.zeros([2, 1, 63]) as tf.Tensor3D, { training: false })).toThrow(/\[M,K,64\], got \[2,1,63\]/);
    expect(() => createMappingNet({ inputDim: 4, outputDim: 4, dropout: 1 })).toThrow(/dropout/);
    net.dispose();
    again.dispose();
  });

  it('draws its dropout mask from the forward seed when given (exact resume)', () => {
    const net = createMappingNet({ inputDim: 8, outputDim: 4, seed: 5 });
    const other = createMappingNet({ inputDim: 8, outputDim: 4, seed: 5 });
    const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 4) as tf.Tensor3D;
    net.apply(x, { training: true }).dispose(); // advance net's own stream: must not matter
    const a = net.apply(x, { training: true, seed: 1234 });
    const b = other.apply(x, { training: true, seed: 1234 });
    const c = other.apply(x, { training: true, seed: 99 });
    expectClose(a, b, { atol: 0 });
    expect(tf.max(tf.abs(tf.sub(a, c))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, a, b, c]);
    net.dispose();
    other.dispose();
  });
});

describe('temperature τ', () => {
  it('is one trainable scalar initialised to log(1/0.07)', () => {
    const t = createTemperature();
    expect(t.value.dataSync()[0]).toBeCloseTo(Math.log(1 / 0.07), 6);
    expect(t.trainableVariables()).toEqual([t.value]);
    expect(Object.keys(t.namedVariables())).toEqual(['temperature']);
    const g = tf.variableGrads(() => tf.div(tf.scalar(2), t.value) as tf.Scalar, t.trainableVariables());
    expect(g.grads[t.value.name]!.dataSync()[0]).toBeCloseTo(-2 / Math.log(1 / 0.07) ** 2, 5);
    const frozen = createTemperature({ init: 1, trainable: false });
    expect(frozen.trainableVariables()).toEqual([]);
    expect(() => createTemperature({ init: Number.NaN })).toThrow(/temperature init/);
    t.dispose();
    frozen.dispose();
  });
});
