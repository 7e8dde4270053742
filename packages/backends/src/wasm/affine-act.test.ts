import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { AFFINE_ACT, AFFINE_ACT_GRAD } from '@lico/core';
import { expectNoLeaks } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectWasmKernelBuild } from './kernel-build';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { KERNEL_BUILDS, maxRelErr as relErr, seededFloats as random } from './test-parity';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});



/** The definition in float64: z = x·scale + shift, y = z > 0 ? z : α·z, and the three gradients of Σ y·dy (mask from z). */
function reference(x: Float32Array, scale: Float32Array, shift: Float32Array, dy: Float32Array, alpha: number) {
  const c = scale.length;
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const dScale = new Float64Array(c);
  const dShift = new Float64Array(c);
  for (let k = 0; k < x.length; k++) {
    const ch = k % c;
    const z = x[k]! * scale[ch]! + shift[ch]!;
    const dz = z > 0 ? dy[k]! : alpha * dy[k]!;
    y[k] = z > 0 ? z : alpha * z;
    dx[k] = dz * scale[ch]!;
    dScale[ch] += dz * x[k]!;
    dShift[ch] += dz;
  }
  return { y, dx, dScale, dShift };
}

const affineAct = (x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, alpha: number) =>
  tf.engine().runKernel(AFFINE_ACT, { x, scale, shift }, { alpha } as unknown as tf.NamedAttrMap) as tf.Tensor;

const cases = [
  { name: 'NHWC, c 3 (no SIMD lane full), slope 0.1', shape: [2, 5, 7, 3], alpha: 0.1 },
  { name: 'NHWC, c 16, ReLU', shape: [4, 8, 8, 16], alpha: 0 },
  { name: 'NHWC, c 13 (SIMD and tail), no activation', shape: [3, 6, 5, 13], alpha: 1 },
  { name: 'NHWC, c 32, 65536 positions (threaded), slope 0.1', shape: [64, 32, 32, 32], alpha: 0.1 },
  { name: 'rank 2, c 5, slope 0.2', shape: [7, 5], alpha: 0.2 },
];

describe.each(KERNEL_BUILDS)('LicoAffineAct, its gradient kernel and @lico/core gradient on wasm (%s build)', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));

  it.each(cases)('match the float64 definition: $name', ({ shape, alpha }) => {
    const c = shape[shape.length - 1]!;
    const n = shape.reduce((a, b) => a * b, 1);
    const [xs, ss, hs, dys] = [random(n, 1, 2), random(c, 2, 1, 0.5), random(c, 3), random(n, 4)];
    const ref = reference(xs, ss, hs, dys, alpha);
    const [x, scale, shift, dy] = [tf.tensor(xs, shape), tf.tensor1d(ss), tf.tensor1d(hs), tf.tensor(dys, shape)];
    const y = affineAct(x, scale, shift, alpha);
    // One multiply-add per element (two roundings in the SIMD build, one in the relaxed build).
    expect(relErr(y.dataSync(), ref.y)).toBeLessThan(1e-6);
    const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, h: tf.Tensor) => tf.sum(tf.mul(affineAct(a, s, h, alpha), dy)))([x, scale, shift]);
    expect(relErr(grads[0]!.dataSync(), ref.dx)).toBeLessThan(1e-6);
    // Sums over up to 65536 positions in float32.
    expect(relErr(grads[1]!.dataSync(), ref.dScale)).toBeLessThan(2e-5);
    expect(relErr(grads[2]!.dataSync(), ref.dShift)).toBeLessThan(2e-5);
    if (alpha === 0) expect(Math.min(...y.dataSync())).toBe(0);
    tf.dispose([x, scale, shift, dy, y, ...grads]);
  });

  it('a closed form: x = [-2, -1, 1, 2] in one channel, scale 3, shift 1, slope 0.5', () => {
    // z = [-5, -2, 4, 7] → y = [-2.5, -1, 4, 7]; d(Σy)/dx = [1.5, 1.5, 3, 3]
    const x = tf.tensor2d([-2, -1, 1, 2], [4, 1]);
    const [scale, shift] = [tf.tensor1d([3]), tf.tensor1d([1])];
    const y = affineAct(x, scale, shift, 0.5);
    expect(Array.from(y.dataSync())).toEqual([-2.5, -1, 4, 7]);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(affineAct(a, scale, shift, 0.5)))(x);
    expect(Array.from(dx.dataSync())).toEqual([1.5, 1.5, 3, 3]);
    const dxk = tf.engine().runKernel(AFFINE_ACT_GRAD, { dy: tf.onesLike(y), y, scale }, { alpha: 0.5 } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(Array.from(dxk.dataSync())).toEqual([1.5, 1.5, 3, 3]);
    tf.dispose([x, scale, shift, y, dx, dxk]);
  });
});

describe('LicoAffineAct on wasm', () => {
  it('an input gradient runs one gradient pass and no per-channel sums (the gradient is lazy per input)', async () => {
    const x = tf.randomNormal([8, 8, 8, 16], 0, 1, 'float32', 5);
    const [scale, shift] = [tf.randomUniform([16], 0.5, 1.5, 'float32', 6), tf.randomNormal([16], 0, 1, 'float32', 7)];
    const w = tf.randomNormal([8, 8, 8, 16], 0, 1, 'float32', 8);
    const f = (a: tf.Tensor) => tf.sum(tf.mul(affineAct(a, scale, shift, 0.1), w));
    const profile = await tf.profile(() => tf.dispose(tf.grad(f)(x)));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((k) => k === AFFINE_ACT_GRAD)).toHaveLength(1);
    expect(names.filter((k) => k === 'Sum')).toHaveLength(1); // the loss's own
    expect(names).not.toContain('Select');
    tf.dispose([x, scale, shift, w]);
  });

  it('bad input names the problem', () => {
    const x = tf.zeros([2, 3, 3, 4]);
    const three = tf.ones([3]);
    const four = tf.ones([4]);
    expect(() => affineAct(x, three, four, 0)).toThrow(/scale must be float32 \[4\] for x \[2,3,3,4\], got float32 \[3\]/);
    expect(() => affineAct(x, four, four, -1)).toThrow(/alpha must be a finite number >= 0, got -1/);
    expect(() => tf.engine().runKernel(AFFINE_ACT_GRAD, { dy: x, y: four, scale: four }, { alpha: 0 } as unknown as tf.NamedAttrMap)).toThrow(/y must be float32 \[2,3,3,4\], got float32 \[4\]/);
    tf.dispose([x, three, four]);
  });

  it('is leak-free (forward and all three gradients; scratch freed)', async () => {
    const x = tf.randomNormal([4, 8, 8, 8], 0, 1, 'float32', 5);
    const [scale, shift] = [tf.ones([8]), tf.zeros([8])];
    await expectNoLeaks(() => {
      const y = affineAct(x, scale, shift, 0.1);
      const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, h: tf.Tensor) => tf.sum(affineAct(a, s, h, 0.1)))([x, scale, shift]);
      tf.dispose([y, ...grads]);
    });
    tf.dispose([x, scale, shift]);
  });
});
