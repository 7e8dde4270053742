import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { AFFINE_ACT, CONV_ADD_ACT, CONV_AFFINE_ACT } from '@lico/core';
import { expectNoLeaks } from '@lico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectWasmConvAlgorithm, WASM_CONV_ALGORITHMS, wasmConvAlgorithm } from './conv-grad-kernels';
import { selectWasmKernelBuild } from './kernel-build';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { KERNEL_BUILDS, maxRelErr as relErr, seededFloats as random } from './test-parity';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

type Attrs = { strides: number; pad: number; alpha: number };

const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: Attrs) => tf.engine().runKernel(kernel, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;

/** The same computation as the kernels it fuses, one after another: FusedConv2D, LicoAffineAct (if scale), Add (if residual), the activation. */
function unfused(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, a: Attrs, parts: { scale?: tf.Tensor1D; shift?: tf.Tensor1D; residual?: tf.Tensor4D }): tf.Tensor4D {
  let z = tf.engine().runKernel(tf.FusedConv2D, { x, filter, bias }, { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dilations: 1, activation: 'linear' } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  if (parts.scale) z = tf.engine().runKernel(AFFINE_ACT, { x: z, scale: parts.scale, shift: parts.shift! }, { alpha: parts.residual ? 1 : a.alpha } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  if (parts.residual) {
    z = tf.add(z, parts.residual);
    if (a.alpha !== 1) z = a.alpha === 0 ? tf.relu(z) : tf.leakyRelu(z, a.alpha);
  } else if (!parts.scale && a.alpha !== 1) z = a.alpha === 0 ? tf.relu(z) : tf.leakyRelu(z, a.alpha);
  return z;
}

/** Largest |a − b| (0 only when the bits agree up to the sign of zero). */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!) || (Number.isNaN(a[k]!) !== Number.isNaN(b[k]!) ? Infinity : 0));
  return d;
}

const geometries = [
  { name: '3×3 stride 1, 32 → 32 (Winograd 4×4)', x: [2, 8, 8, 32], k: 3, co: 32, strides: 1, pad: 1 },
  { name: '3×3 stride 1, 16 → 13, 7×9 (partial tiles and lanes)', x: [2, 7, 9, 16], k: 3, co: 13, strides: 1, pad: 1 },
  { name: '3×3 stride 2, 16 → 32 (the stride-2 Winograd form)', x: [2, 10, 10, 16], k: 3, co: 32, strides: 2, pad: 1 },
  { name: '3×3 stride 1, 3 → 5 (direct sums, partial lanes)', x: [2, 6, 7, 3], k: 3, co: 5, strides: 1, pad: 1 },
  { name: '1×1 stride 2, 8 → 12 (direct sums)', x: [3, 6, 6, 8], k: 1, co: 12, strides: 2, pad: 0 },
  { name: '3×3 stride 1, 32 → 32, 64×16×16 (threaded)', x: [64, 16, 16, 32], k: 3, co: 32, strides: 1, pad: 1 },
];

function tensorsFor(g: (typeof geometries)[number], seed: number) {
  const [n, h, w, c] = g.x as [number, number, number, number];
  const ho = Math.floor((h + 2 * g.pad - g.k) / g.strides) + 1;
  const wo = Math.floor((w + 2 * g.pad - g.k) / g.strides) + 1;
  return {
    x: tf.tensor4d(random(n * h * w * c, seed), [n, h, w, c]),
    filter: tf.tensor4d(random(g.k * g.k * c * g.co, seed + 1, 0.3), [g.k, g.k, c, g.co]),
    bias: tf.tensor1d(random(g.co, seed + 2, 0.2)),
    scale: tf.tensor1d(random(g.co, seed + 3, 0.5, 1)),
    shift: tf.tensor1d(random(g.co, seed + 4, 0.3)),
    residual: tf.tensor4d(random(n * ho * wo * g.co, seed + 5), [n, ho, wo, g.co]),
  };
}

describe.each(KERNEL_BUILDS)('LicoConvAffineAct and LicoConvAddAct on wasm (%s build)', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));

  it.each(geometries)('give the bits of the kernels they fuse: $name', (g) => {
    const t = tensorsFor(g, 11);
    for (const alpha of [0.1, 0, 1]) {
      const a = { strides: g.strides, pad: g.pad, alpha };
      const cases: [string, tf.NamedTensorMap, Parameters<typeof unfused>[4]][] = [
        [CONV_AFFINE_ACT, { x: t.x, filter: t.filter, bias: t.bias, scale: t.scale, shift: t.shift }, { scale: t.scale, shift: t.shift }],
        [CONV_AFFINE_ACT, { x: t.x, filter: t.filter, bias: t.bias, scale: t.scale, shift: t.shift, residual: t.residual }, { scale: t.scale, shift: t.shift, residual: t.residual }],
        [CONV_ADD_ACT, { x: t.x, filter: t.filter, bias: t.bias, residual: t.residual }, { residual: t.residual }],
      ];
      for (const [kernel, ins, parts] of cases) {
        const fused = run(kernel, ins, a);
        const ref = unfused(t.x, t.filter, t.bias, a, parts);
        expect(fused.shape).toEqual(ref.shape);
        expect(maxAbsDiff(fused.dataSync(), ref.dataSync()), `${kernel} alpha ${alpha}${parts.residual ? ' + residual' : ''}`).toBe(0);
        if (alpha === 0) expect((fused.dataSync() as Float32Array).reduce((m, v) => Math.min(m, v), Infinity)).toBe(0);
        tf.dispose([fused, ref]);
      }
    }
    tf.dispose(Object.values(t));
  });

  it.each([0.1, 1])('gradients match the unfused kernels\' for every input (slope %s)', (alpha) => {
    const g = geometries[0]!;
    const t = tensorsFor(g, 21);
    const a = { strides: g.strides, pad: g.pad, alpha };
    const w = tf.randomNormal(t.residual.shape, 0, 1, 'float32', 3);
    const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, w));
    const fusedAffine = tf.grads((x, f, b, s, h) => loss(run(CONV_AFFINE_ACT, { x, filter: f, bias: b, scale: s, shift: h }, a)))([t.x, t.filter, t.bias, t.scale, t.shift]);
    const refAffine = tf.grads((x, f, b, s, h) => loss(unfused(x as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, a, { scale: s as tf.Tensor1D, shift: h as tf.Tensor1D })))([t.x, t.filter, t.bias, t.scale, t.shift]);
    fusedAffine.forEach((d, k) => expect(relErr(d.dataSync(), refAffine[k]!.dataSync()), `affine input ${k}`).toBeLessThan(1e-5));
    const fusedAdd = tf.grads((x, f, b, r) => loss(run(CONV_ADD_ACT, { x, filter: f, bias: b, residual: r }, a)))([t.x, t.filter, t.bias, t.residual]);
    const refAdd = tf.grads((x, f, b, r) => loss(unfused(x as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, a, { residual: r as tf.Tensor4D })))([t.x, t.filter, t.bias, t.residual]);
    fusedAdd.forEach((d, k) => expect(relErr(d.dataSync(), refAdd[k]!.dataSync()), `add input ${k}`).toBeLessThan(1e-5));
    tf.dispose([...Object.values(t), w, ...fusedAffine, ...refAffine, ...fusedAdd, ...refAdd]);
  });
});

describe.each(WASM_CONV_ALGORITHMS.filter((a) => a !== wasmConvAlgorithm()))('LicoConvAffineAct and LicoConvAddAct under the %s conv algorithm', (algorithm) => {
  const before = wasmConvAlgorithm();
  beforeAll(() => selectWasmConvAlgorithm(algorithm));
  afterAll(() => selectWasmConvAlgorithm(before));

  it.each(geometries.slice(0, 4))('give the bits of the kernels they fuse: $name', (g) => {
    const t = tensorsFor(g, 71);
    const a = { strides: g.strides, pad: g.pad, alpha: 0.1 };
    for (const [kernel, ins, parts] of [
      [CONV_AFFINE_ACT, { x: t.x, filter: t.filter, bias: t.bias, scale: t.scale, shift: t.shift, residual: t.residual }, { scale: t.scale, shift: t.shift, residual: t.residual }],
      [CONV_ADD_ACT, { x: t.x, filter: t.filter, bias: t.bias, residual: t.residual }, { residual: t.residual }],
    ] as [string, tf.NamedTensorMap, Parameters<typeof unfused>[4]][]) {
      const fused = run(kernel, ins, a);
      const ref = unfused(t.x, t.filter, t.bias, a, parts);
      expect(maxAbsDiff(fused.dataSync(), ref.dataSync()), `${kernel} (${algorithm})`).toBe(0);
      tf.dispose([fused, ref]);
    }
    tf.dispose(Object.values(t));
  });
});

describe('LicoConvAffineAct and LicoConvAddAct on wasm', () => {
  it('an input gradient runs one conv input gradient and no filter gradient or per-channel sums', async () => {
    const t = tensorsFor(geometries[0]!, 31);
    const f = (x: tf.Tensor) => tf.sum(run(CONV_ADD_ACT, { x: run(CONV_AFFINE_ACT, { x, filter: t.filter, bias: t.bias, scale: t.scale, shift: t.shift }, { strides: 1, pad: 1, alpha: 0.1 }), filter: t.filter, bias: t.bias, residual: t.residual }, { strides: 1, pad: 1, alpha: 1 }));
    const profile = await tf.profile(() => tf.dispose(tf.grad(f)(t.x)));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((k) => k === 'Conv2DBackpropInput')).toHaveLength(2);
    expect(names).not.toContain('Conv2DBackpropFilter');
    expect(names.filter((k) => k === 'Sum')).toHaveLength(1); // the loss's own
    tf.dispose(Object.values(t));
  });

  it('bad input names the problem', () => {
    const t = tensorsFor(geometries[0]!, 41);
    const a = { strides: 1, pad: 1, alpha: 0.1 };
    const short = tf.ones([3]);
    expect(() => run(CONV_AFFINE_ACT, { x: t.x, filter: t.filter, bias: short, scale: t.scale, shift: t.shift }, a)).toThrow(/LicoConvAffineAct: bias must be float32 \[32\] \(the filter's output channels\), got float32 \[3\]/);
    expect(() => run(CONV_AFFINE_ACT, { x: t.x, filter: t.filter, bias: t.bias, scale: t.scale }, a)).toThrow(/scale and shift are required, got scale float32 \[32\], shift missing/);
    expect(() => run(CONV_ADD_ACT, { x: t.x, filter: t.filter, bias: t.bias, residual: tf.slice(t.x, [0, 0, 0, 0], [1, 8, 8, 32]) }, a)).toThrow(/LicoConvAddAct: residual must be float32 \[2,8,8,32\] \(the output's shape\), got float32 \[1,8,8,32\]/);
    expect(() => run(CONV_ADD_ACT, { x: t.x, filter: t.filter, bias: t.bias, residual: t.residual }, { ...a, alpha: -1 })).toThrow(/alpha must be a finite number >= 0, got -1/);
    expect(() => run(CONV_ADD_ACT, { x: t.x, filter: tf.ones([3, 3, 4, 32]), bias: t.bias, residual: t.residual }, a)).toThrow(/filter must be float32 \[kh, kw, 32, co\] for x \[2,8,8,32\], got float32 \[3,3,4,32\]/);
    tf.dispose([...Object.values(t), short]);
  });

  it('is leak-free (forward and every gradient; scratch and a rejected output freed)', async () => {
    const t = tensorsFor(geometries[0]!, 51);
    const a = { strides: 1, pad: 1, alpha: 0.1 };
    const wrong = tf.slice(t.x, [0, 0, 0, 0], [1, 8, 8, 32]);
    await expectNoLeaks(() => {
      const y = run(CONV_AFFINE_ACT, { x: t.x, filter: t.filter, bias: t.bias, scale: t.scale, shift: t.shift, residual: t.residual }, a);
      const grads = tf.grads((x, f, b, s, h, r) => tf.sum(run(CONV_AFFINE_ACT, { x, filter: f, bias: b, scale: s, shift: h, residual: r }, a)))([t.x, t.filter, t.bias, t.scale, t.shift, t.residual]);
      const grads2 = tf.grads((x, f, b, r) => tf.sum(run(CONV_ADD_ACT, { x, filter: f, bias: b, residual: r }, a)))([t.x, t.filter, t.bias, t.residual]);
      expect(() => run(CONV_ADD_ACT, { x: t.x, filter: t.filter, bias: t.bias, residual: wrong }, a)).toThrow();
      tf.dispose([y, ...grads, ...grads2]);
    });
    tf.dispose([...Object.values(t), wrong]);
  });
});

describe('FusedConv2D with a leakyrelu activation on wasm', () => {
  it.each(KERNEL_BUILDS)('equals the conv then tfjs\'s leakyRelu (%s build)', (build) => {
    selectWasmKernelBuild(build);
    const t = tensorsFor(geometries[0]!, 61);
    for (const leakyreluAlpha of [0.1, undefined]) {
      const fused = tf.fused.conv2d({ x: t.x, filter: t.filter, strides: 1, pad: 'same', bias: t.bias, activation: 'leakyrelu', ...(leakyreluAlpha === undefined ? {} : { leakyreluAlpha }) });
      const ref = tf.leakyRelu(tf.fused.conv2d({ x: t.x, filter: t.filter, strides: 1, pad: 'same', bias: t.bias }), leakyreluAlpha ?? 0.2);
      expect(maxAbsDiff(fused.dataSync(), ref.dataSync())).toBe(0);
      tf.dispose([fused, ref]);
    }
    tf.dispose(Object.values(t));
  });
});
