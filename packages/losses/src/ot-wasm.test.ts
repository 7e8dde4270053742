import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { ConfigError, NonFiniteError, createRng } from '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { OT_KERNELS_SOURCE_SHA256 } from './generated/ot-kernels-wasm';
import { optimalTransportLoss, optimalTransportLossWithPlan } from './optimal-transport-loss';
import { otWasmAvailable, resolveOtKernels } from './ot-wasm';
import { sinkhorn } from './sinkhorn';

beforeAll(useCpuBackend);

const points = (shape: [number, number, number], seed: number, zeroRows: number[] = []): tf.Tensor3D => {
  const rng = createRng(seed);
  const data = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => rng.normal());
  for (const row of zeroRows) data.fill(0, row * shape[2], (row + 1) * shape[2]);
  return tf.tensor3d(data, shape);
};

describe('the wasm-simd optimal-transport kernels', () => {
  it('were built from the committed C source (rebuild: node tools/wasm/build-wasm.mjs losses)', () => {
    const source = readFileSync(new URL('../csrc/ot-kernels.c', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(OT_KERNELS_SOURCE_SHA256);
  });

  it('compile in Node (so the default path is the fast one)', () => {
    expect(otWasmAvailable()).toBe(true);
  });

  it('prepareOtKernels compiles them asynchronously where synchronous compilation is refused (browsers)', async () => {
    vi.resetModules();
    const fresh = await import('./ot-wasm');
    const RealModule = WebAssembly.Module;
    // What Chrome's main thread says for a synchronous compile of more than 4 KB.
    const refuse = function () {
      throw new RangeError('WebAssembly.Module(): Out of memory: wasm code size exceeds the 4KB synchronous limit');
    } as unknown as typeof WebAssembly.Module;
    try {
      (WebAssembly as { Module: typeof WebAssembly.Module }).Module = refuse;
      expect(fresh.otWasmAvailable()).toBe(false);
      expect(fresh.resolveOtKernels('auto')).toBeNull(); // 'auto' falls back to the TypeScript path
      expect(() => fresh.resolveOtKernels('wasm-simd')).toThrow(/4KB synchronous limit/);
      expect(await fresh.prepareOtKernels()).toBe(true);
      expect(fresh.otWasmAvailable()).toBe(true);
      const k = fresh.resolveOtKernels('auto');
      expect(k).not.toBeNull();
      expect(fresh.resolveOtKernels('wasm-simd')).toBe(k);
      // The asynchronously compiled kernels compute: Σ plan·cost of two 1-element float32 arrays.
      const at = ((k!.__heap_base.value as number) + 15) & ~15;
      new Float32Array(k!.memory.buffer, at, 5).set([3, 0, 0, 0, 0.5]);
      expect(k!.ot_dot(at, at + 16, 1)).toBe(1.5);
    } finally {
      (WebAssembly as { Module: typeof WebAssembly.Module }).Module = RealModule;
    }
  });

  // odd sizes exercise every SIMD remainder loop (d not a multiple of 4 or 8, q odd, p = 1)
  const cases: { shape: [number, number, number, number]; epsilon: number; zeroX?: number[]; zeroY?: number[]; tolerance?: number }[] = [
    { shape: [3, 16, 12, 64], epsilon: 0.1 },
    { shape: [2, 7, 5, 13], epsilon: 0.1, zeroX: [2], zeroY: [4] },
    { shape: [1, 1, 3, 1], epsilon: 0.5 },
    { shape: [2, 5, 1, 6], epsilon: 0.05 },
    { shape: [2, 9, 4, 3], epsilon: 1e-3, tolerance: 0 }, // exact max-shifted fallbacks of the kernel
  ];
  cases.forEach(({ shape, epsilon, zeroX = [], zeroY = [], tolerance }, index) => {
    it(`equal the TypeScript path: loss, plan, iterations and both gradients (case ${index}, N,P,Q,D = ${shape.join(',')}, ε ${epsilon})`, async () => {
      const [n, p, q, d] = shape;
      const x = points([n, p, d], 10 + index, zeroX);
      const y = tf.mul(points([n, q, d], 20 + index, zeroY), 3) as tf.Tensor3D;
      const run = (implementation: 'wasm-simd' | 'js') => {
        // Case 4 compares the kernels' fallback paths on a plan that is knowingly unconverged.
        const options = { epsilon, implementation, maxIterations: 60, onUnconverged: 'ignore' as const, ...(tolerance === undefined ? {} : { tolerance }) };
        const out = optimalTransportLossWithPlan(x, y, options);
        const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => optimalTransportLoss(a as tf.Tensor3D, b as tf.Tensor3D, options))([x, y]);
        return { ...out, gx: gx!, gy: gy! };
      };
      const wasm = await expectNoLeaks(() => run('wasm-simd'));
      const js = run('js');
      expect(wasm.iterations).toBe(js.iterations);
      expectClose(wasm.loss, js.loss, { atol: 1e-6, rtol: 1e-5 });
      expectClose(wasm.plan, js.plan, { atol: 1e-7, rtol: 1e-4 });
      expectClose(wasm.gx, js.gx, { atol: 1e-6, rtol: 1e-4 });
      expectClose(wasm.gy, js.gy, { atol: 1e-6, rtol: 1e-4 });
      expect((wasm.gx.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
      tf.dispose([x, y, wasm.loss, wasm.plan, wasm.gx, wasm.gy, js.loss, js.plan, js.gx, js.gy]);
    });
  });

  it('sinkhorn() gives the same plan, iterations and change on both paths, with uneven marginals', () => {
    const cost = tf.mul(tf.randomUniform([3, 6, 5], 0, 1, 'float32', 4), 4) as tf.Tensor3D;
    const sw = tf.div(tf.randomUniform([3, 6], 0.5, 1.5, 'float32', 5), 1) as tf.Tensor2D;
    const mass = tf.sum(sw, 1, true);
    const tw = tf.mul(tf.div(tf.ones([3, 5]), 5), mass) as tf.Tensor2D;
    const a = sinkhorn(cost, { epsilon: 0.2, sourceWeights: sw, targetWeights: tw, implementation: 'wasm-simd' });
    const b = sinkhorn(cost, { epsilon: 0.2, sourceWeights: sw, targetWeights: tw, implementation: 'js' });
    expect(a.iterations).toBe(b.iterations);
    expect(a.change).toBeCloseTo(b.change, 12);
    expectClose(a.plan, b.plan, { atol: 1e-8, rtol: 1e-6 });
    // column sums equal the target weights after the final v update
    expectClose(tf.sum(a.plan, 1), tw, { atol: 1e-6 });
    tf.dispose([cost, sw, mass, tw, a.plan, b.plan]);
  });

  it('name the non-finite argument and reject unknown implementations, listing the valid ones', () => {
    const x = tf.tensor3d([1, NaN, 0, 1], [1, 2, 2]);
    const y = tf.tensor3d([1, 0], [1, 1, 2]);
    expect(() => optimalTransportLoss(x, y, { implementation: 'wasm-simd' })).toThrow(NonFiniteError);
    expect(() => optimalTransportLoss(x, y, { implementation: 'wasm-simd' })).toThrow(/imagePoints/);
    const big = tf.tensor3d([3e19, 0, 0, 1], [1, 2, 2]);
    expect(() => optimalTransportLoss(big, y, { implementation: 'wasm-simd' })).toThrow(/overflows float32/);
    // @ts-expect-error an invalid name on purpose
    expect(() => resolveOtKernels('simd')).toThrow(ConfigError);
    // @ts-expect-error an invalid name on purpose
    expect(() => optimalTransportLoss(y, y, { implementation: 'fast' })).toThrow(/'auto', 'wasm-simd', 'js'/);
    tf.dispose([x, y, big]);
  });
});
