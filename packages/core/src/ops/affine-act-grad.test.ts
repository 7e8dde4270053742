import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeaks, useCpuBackend } from '@lico/testing';
import '../register-gradients';
import { LICO_GRADIENT_CONFIGS } from '../register-gradients';
import { AFFINE_ACT, AFFINE_ACT_GRAD, type AffineActAttrs } from './kernel-names';

type CpuLike = { readSync(id: tf.DataId): Float32Array; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };

/** A test-only cpu kernel for the forward map (the cpu backend has none; the gradient's fallback path runs). */
function affineActCpu({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const b = backend as CpuLike;
  const { x, scale, shift } = inputs as Record<'x' | 'scale' | 'shift', tf.TensorInfo>;
  const { alpha } = attrs as unknown as AffineActAttrs;
  const [xs, s, h] = [b.readSync(x.dataId), b.readSync(scale.dataId), b.readSync(shift.dataId)];
  const c = s.length;
  const y = xs.map((v, k) => {
    const z = Math.fround(v * s[k % c]!) + h[k % c]!;
    return z > 0 ? z : alpha * z;
  });
  return b.makeTensorInfo(x.shape.slice(), 'float32', y);
}

beforeAll(async () => {
  await useCpuBackend();
  tf.registerKernel({ kernelName: AFFINE_ACT, backendName: 'cpu', kernelFunc: affineActCpu as unknown as tf.KernelFunc });
});
afterAll(() => tf.unregisterKernel(AFFINE_ACT, 'cpu'));

const run = (x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, alpha: number) =>
  tf.engine().runKernel(AFFINE_ACT, { x, scale, shift }, { alpha } as unknown as tf.NamedAttrMap) as tf.Tensor;

describe('affineActGradConfig (registered on import of @lico/core)', () => {
  it('is registered for LicoAffineAct', () => {
    expect(LICO_GRADIENT_CONFIGS.map((c) => c.kernelName)).toContain(AFFINE_ACT);
    expect(tf.getGradient(AFFINE_ACT)).toBeDefined();
    expect(tf.getKernel(AFFINE_ACT_GRAD, 'cpu')).toBeUndefined(); // so dx takes the stock-op path here
  });

  it('gives the closed-form gradients of Σ w·act(x·scale + shift) for x, scale and shift', () => {
    // one channel: x = [-2, -1, 1, 2], scale 3, shift 1 → z = [-5, -2, 4, 7]; slope 0.5 → dz/dy = [0.5, 0.5, 1, 1]
    const x = tf.tensor2d([-2, -1, 1, 2], [4, 1]);
    const [scale, shift] = [tf.tensor1d([3]), tf.tensor1d([1])];
    const w = tf.tensor2d([1, 2, 3, 4], [4, 1]);
    const [dx, ds, dh] = tf.grads((a: tf.Tensor, s: tf.Tensor, h: tf.Tensor) => tf.sum(tf.mul(run(a, s, h, 0.5), w)))([x, scale, shift]);
    // dz = w·[0.5, 0.5, 1, 1] = [0.5, 1, 3, 4]; dx = 3·dz; dscale = Σ dz·x = -1 - 1 + 3 + 8; dshift = Σ dz
    expect(Array.from(dx!.dataSync())).toEqual([1.5, 3, 9, 12]);
    expect(Array.from(ds!.dataSync())).toEqual([9]);
    expect(Array.from(dh!.dataSync())).toEqual([8.5]);
    tf.dispose([x, scale, shift, w, dx!, ds!, dh!]);
  });

  it.each([0, 0.1, 1])('matches central finite differences on NHWC (slope %s)', (alpha) => {
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 1);
    const scale = tf.randomUniform([4], 0.5, 1.5, 'float32', 2);
    const shift = tf.randomNormal([4], 0, 0.5, 'float32', 3);
    const w = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 4);
    const f = (a: tf.Tensor, s: tf.Tensor, h: tf.Tensor) => tf.sum(tf.mul(run(a, s, h, alpha), w)) as tf.Scalar;
    const grads = tf.grads(f)([x, scale, shift]);
    const inputs = [x, scale, shift];
    const eps = 1e-2;
    for (let i = 0; i < 3; i++) {
      const base = inputs[i]!.dataSync() as Float32Array;
      const g = grads[i]!.dataSync();
      for (const k of [0, 1, 3]) {
        const at = (d: number) => {
          const v = base.slice();
          v[k]! += d;
          const args = inputs.map((t, j) => (j === i ? tf.tensor(v, t.shape) : t));
          const out = f(args[0]!, args[1]!, args[2]!).dataSync()[0]!;
          tf.dispose(args[i]!);
          return out;
        };
        // exact for a piecewise-linear map away from its kink; the step keeps clear of it here (seeded inputs)
        expect(g[k], `input ${i}, element ${k}`).toBeCloseTo((at(eps) - at(-eps)) / (2 * eps), 2);
      }
    }
    tf.dispose([x, scale, shift, w, ...grads]);
  });

  it('is leak-free', async () => {
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 1);
    const [scale, shift] = [tf.ones([4]), tf.zeros([4])];
    await expectNoLeaks(() => tf.dispose(tf.grads((a: tf.Tensor, s: tf.Tensor, h: tf.Tensor) => tf.sum(run(a, s, h, 0.1)))([x, scale, shift])));
    tf.dispose([x, scale, shift]);
  });
});
