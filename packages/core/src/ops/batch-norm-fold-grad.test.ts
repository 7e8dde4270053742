import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeaks, gradientCheck, useCpuBackend } from '@lico/testing';
import '../register-gradients';
import { LICO_GRADIENT_CONFIGS } from '../register-gradients';
import { batchNormFoldGradConfig } from './batch-norm-fold-grad';
import { BATCH_NORM_FOLD, type BatchNormFoldAttrs } from './kernel-names';

type CpuLike = { readSync(id: tf.DataId): Float32Array; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };

/** A test-only cpu kernel (the cpu backend has none): the fold in float32, PyTorch's order. */
function foldCpu({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const b = backend as CpuLike;
  const [g, be, m, v] = (['gamma', 'beta', 'mean', 'variance'] as const).map((k) => b.readSync((inputs[k] as tf.TensorInfo).dataId));
  const { epsilon } = attrs as unknown as BatchNormFoldAttrs;
  const f = Math.fround;
  const scale = g!.map((gi, i) => f(gi * f(1 / f(Math.sqrt(f(v![i]! + f(epsilon)))))));
  const shift = be!.map((bi, i) => f(bi - f(m![i]! * scale[i]!)));
  const shape = (inputs.gamma as tf.TensorInfo).shape.slice();
  return [b.makeTensorInfo(shape, 'float32', scale), b.makeTensorInfo(shape, 'float32', shift)];
}

beforeAll(async () => {
  await useCpuBackend();
  tf.registerKernel({ kernelName: BATCH_NORM_FOLD, backendName: 'cpu', kernelFunc: foldCpu as unknown as tf.KernelFunc });
});
afterAll(() => tf.unregisterKernel(BATCH_NORM_FOLD, 'cpu'));

const fold = (gamma: tf.Tensor, beta: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, epsilon: number) =>
  tf.engine().runKernel(BATCH_NORM_FOLD, { gamma, beta, mean, variance }, { epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor[];

describe('batchNormFoldGradConfig (registered on import of @lico/core)', () => {
  it('is registered for LicoBatchNormFold', () => {
    expect(LICO_GRADIENT_CONFIGS).toContain(batchNormFoldGradConfig);
    expect(tf.getGradient(BATCH_NORM_FOLD)).toBe(batchNormFoldGradConfig);
  });

  it('gives the closed-form gradients of Σ a·scale + b·shift', () => {
    // γ 2, β 1, μ 3, σ² 3, ε 1 → r = 1/2, scale 1, shift −2; loss = 5·scale + 7·shift
    const [g, be, m, v] = [[2], [1], [3], [3]].map((x) => tf.tensor1d(x));
    const loss = (p: tf.Tensor, q: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => {
      const [scale, shift] = fold(p, q, s, t, 1);
      return tf.sum(tf.add(tf.mul(scale!, 5), tf.mul(shift!, 7))) as tf.Scalar;
    };
    const grads = tf.grads(loss)([g!, be!, m!, v!]);
    // dz = 5 − 7·3 = −16; dγ = −16·½ = −8; dβ = 7; dμ = −7·1; dσ² = −½·(−16)·2·⅛ = 2
    expect(grads.map((t) => Array.from(t.dataSync()))).toEqual([[-8], [7], [-7], [2]]);
    tf.dispose([g!, be!, m!, v!, ...grads]);
  });

  it('matches central finite differences for all four inputs', () => {
    const g = tf.randomUniform([5], 0.5, 1.5, 'float32', 1);
    const be = tf.randomNormal([5], 0, 1, 'float32', 2);
    const m = tf.randomNormal([5], 0, 1, 'float32', 3);
    const v = tf.randomUniform([5], 0.5, 2, 'float32', 4);
    const a = tf.randomNormal([5], 0, 1, 'float32', 5);
    const c = tf.randomNormal([5], 0, 1, 'float32', 6);
    const f = (p: tf.Tensor, q: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => {
      const [scale, shift] = fold(p, q, s, t, 1e-3);
      return tf.add(tf.sum(tf.mul(scale!, a)), tf.sum(tf.mul(shift!, c))) as tf.Scalar;
    };
    const inputs = [g, be, m, v];
    for (let k = 0; k < 4; k++) {
      const only = (t: tf.Tensor) => f(...(inputs.map((u, j) => (j === k ? t : u)) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]));
      expect(gradientCheck(only, inputs[k]!, { h: 1e-2 }), `input ${k}`).toBeLessThan(1e-2);
    }
    tf.dispose([...inputs, a, c]);
  });

  it('computes only what the tape asks for (shift alone: no square root), leak-free', async () => {
    const [g, be, m, v] = [[2, 1], [1, 0], [3, 1], [3, 1]].map((x) => tf.tensor1d(x));
    const profile = await tf.profile(() => tf.grad((q: tf.Tensor) => tf.sum(fold(g!, q, m!, v!, 1)[1]!) as tf.Scalar)(be!));
    expect(profile.kernels.map((k) => k.name)).not.toContain('Rsqrt');
    await expectNoLeaks(() => tf.dispose(tf.grads((p: tf.Tensor, q: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => tf.sum(tf.add(...(fold(p, q, s, t, 1) as [tf.Tensor, tf.Tensor]))) as tf.Scalar)([g!, be!, m!, v!])));
    tf.dispose([g!, be!, m!, v!]);
  });
});
