import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { BATCH_NORM_ACT, BATCH_NORM_ACT_GRAD } from '@lico/core';
import { expectNoLeaks } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { convGradRunner } from './conv-grad-kernels';
import { selectWasmKernelBuild } from './kernel-build';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { KERNEL_BUILDS, maxRelErr as relErr, seededFloats as random } from './test-parity';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});


/**
 * The definition in float64: μ, σ² (biased) per channel, z = (x − μ)/sqrt(σ² + ε)·γ + β,
 * y = z > 0 ? z : α·z; and the gradient for dy, with the activation's mask taken from `yMask`
 * (the kernel's own y: where z rounds to the other side of 0 the two definitions differ by design).
 */
function reference(x: Float32Array, g: Float32Array, b: Float32Array, dy: Float32Array, c: number, eps: number, alpha: number, yMask?: Float32Array) {
  const m = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let p = 0; p < m; p++) for (let ch = 0; ch < c; ch++) mean[ch] += x[p * c + ch]! / m;
  for (let p = 0; p < m; p++) for (let ch = 0; ch < c; ch++) variance[ch] += (x[p * c + ch]! - mean[ch]!) ** 2 / m;
  const inv = Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(x.length);
  const dz = new Float64Array(x.length);
  const dBeta = new Float64Array(c);
  const dGamma = new Float64Array(c);
  for (let k = 0; k < x.length; k++) {
    const ch = k % c;
    const xhat = (x[k]! - mean[ch]!) * inv[ch]!;
    const z = xhat * g[ch]! + b[ch]!;
    y[k] = z > 0 ? z : alpha * z;
    dz[k] = (yMask ? yMask[k]! > 0 : z > 0) ? dy[k]! : alpha * dy[k]!;
    dBeta[ch] += dz[k]!;
    dGamma[ch] += dz[k]! * xhat;
  }
  const dx = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const ch = k % c;
    const xhat = (x[k]! - mean[ch]!) * inv[ch]!;
    dx[k] = g[ch]! * inv[ch]! * (dz[k]! - dBeta[ch]! / m - (xhat * dGamma[ch]!) / m);
  }
  return { y, mean, variance, dx, dGamma, dBeta };
}


const cases = [
  { name: 'c 3 (no SIMD lane full), slope 0.1', shape: [2, 5, 7, 3], alpha: 0.1 },
  { name: 'c 16, ReLU', shape: [4, 8, 8, 16], alpha: 0 },
  { name: 'c 13 (SIMD and tail), no activation', shape: [3, 6, 5, 13], alpha: 1 },
  { name: 'c 12, 4096 positions (2 sum groups), slope 0.1, mean far from 0', shape: [16, 16, 16, 12], alpha: 0.1, offset: 3 },
  { name: 'c 32, 16384 positions (8 groups), slope 0.2', shape: [16, 32, 32, 32], alpha: 0.2 },
];

describe.each(KERNEL_BUILDS)('LicoBatchNormAct and its gradient on wasm (%s build)', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));

  it.each(cases)('match the float64 definition: $name', ({ shape, alpha, offset }) => {
    const c = shape[3]!;
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = random(n, 1, 2, offset ?? 0);
    const gs = random(c, 2, 1, 0.5);
    const bs = random(c, 3);
    const dys = random(n, 4);
    const eps = 1e-3;
    const x = tf.tensor4d(xs, shape as [number, number, number, number]);
    const [gamma, beta] = [tf.tensor1d(gs), tf.tensor1d(bs)];
    const dy = tf.tensor4d(dys, x.shape);
    const attrs = { epsilon: eps, alpha } as unknown as tf.NamedAttrMap;
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_ACT, { x, gamma, beta }, attrs) as tf.Tensor[];
    const [dx, dGamma, dBeta] = tf.engine().runKernel(BATCH_NORM_ACT_GRAD, { dy, x, y: y!, gamma, mean: mean!, variance: variance! }, attrs) as tf.Tensor[];
    const yv = y!.dataSync() as Float32Array;
    const ref = reference(xs, gs, bs, dys, c, eps, alpha, yv);
    expect(relErr(yv, ref.y)).toBeLessThan(1e-5);
    expect(relErr(mean!.dataSync(), ref.mean)).toBeLessThan(1e-6);
    expect(relErr(variance!.dataSync(), ref.variance)).toBeLessThan(1e-5);
    expect(relErr(dx!.dataSync(), ref.dx)).toBeLessThan(1e-4);
    expect(relErr(dGamma!.dataSync(), ref.dGamma)).toBeLessThan(1e-5);
    expect(relErr(dBeta!.dataSync(), ref.dBeta)).toBeLessThan(1e-5);
    if (alpha === 0) expect(Math.min(...yv)).toBe(0);
    tf.dispose([x, gamma, beta, dy, y!, mean!, variance!, dx!, dGamma!, dBeta!]);
  });

  it('a closed form: one channel, x = [1, 2, 3, 4], γ 2, β 1, no activation', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const [gamma, beta] = [tf.tensor1d([2]), tf.tensor1d([1])];
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_ACT, { x, gamma, beta }, { epsilon: 0, alpha: 1 } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    // μ 2.5, σ² 1.25: y = 1 + 2·(x − 2.5)/√1.25
    const s = Math.sqrt(1.25);
    Array.from(y!.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(1 + (2 * (k + 1 - 2.5)) / s, 6));
    expect(mean!.dataSync()[0]).toBe(2.5);
    expect(variance!.dataSync()[0]).toBe(1.25);
    tf.dispose([x, gamma, beta, y!, mean!, variance!]);
  });

  it('bad input names the shapes', () => {
    const x = tf.zeros([2, 3, 3, 4]);
    const gamma = tf.ones([3]);
    expect(() => tf.engine().runKernel(BATCH_NORM_ACT, { x, gamma, beta: gamma }, { epsilon: 1e-3, alpha: 0 } as unknown as tf.NamedAttrMap)).toThrow(/gamma must be float32 \[4\] for x \[2,3,3,4\], got float32 \[3\]/);
    tf.dispose([x, gamma]);
  });

  it('is leak-free (outputs only; its scratch is freed)', async () => {
    const x = tf.randomNormal([4, 8, 8, 8], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [gamma, beta] = [tf.ones([8]), tf.zeros([8])];
    await expectNoLeaks(() => {
      const outs = tf.engine().runKernel(BATCH_NORM_ACT, { x, gamma, beta }, { epsilon: 1e-3, alpha: 0.1 } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      const grads = tf.engine().runKernel(BATCH_NORM_ACT_GRAD, { dy: x, x, y: outs[0]!, gamma, mean: outs[1]!, variance: outs[2]! }, { epsilon: 1e-3, alpha: 0.1 } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      tf.dispose([...outs, ...grads]);
    });
    tf.dispose([x, gamma, beta]);
  });
});

describe('the batch-norm passes on worker threads', () => {
  it.each(KERNEL_BUILDS)('give bit-identical sums and outputs for 1, 2 and 3 threads on a shared memory (%s build)', (build) => {
    const [m, c] = [16384, 24]; // 8 sum groups, ~1.6M elements: above the threading threshold
    const x = random(m * c, 7, 1.5, 0.5);
    const dy = random(m * c, 8);
    const coef = Float32Array.from({ length: 3 * c + 1 }, (_, k) => (k === 3 * c ? 0.1 : Math.sin(k + 1)));
    const memory = new WebAssembly.Memory({ initial: 1024, maximum: 2048, shared: true });
    const [xPtr, dyPtr, yPtr, dxPtr, coefPtr, sumsPtr] = [0, 1, 2, 3, 4, 5].map((i) => 1024 + i * 4 * (m * c + 64));
    const results: { sums: Float64Array; y: Float32Array; dx: Float32Array; gsums: Float64Array }[] = [];
    for (const threads of [1, 2, 3]) {
      const runner = convGradRunner(memory, threads, build)!;
      expect(runner.threads).toBe(threads);
      const f = new Float32Array(memory.buffer);
      f.set(x, xPtr / 4);
      f.set(dy, dyPtr / 4);
      f.set(coef, coefPtr / 4);
      const groups = runner.batchNormGroups(m);
      expect(groups).toBe(8);
      runner.batchNormSums(xPtr, sumsPtr, m, c);
      const sums = new Float64Array(memory.buffer.slice(sumsPtr, sumsPtr + 8 * groups * 2 * c));
      runner.batchNormApply(xPtr, yPtr, coefPtr, m, c);
      f[coefPtr / 4] = 0.1; // alpha for the gradient sums (coef[0])
      runner.batchNormSums(xPtr, sumsPtr, m, c, { dyPtr, yPtr, coefPtr });
      const gsums = new Float64Array(memory.buffer.slice(sumsPtr, sumsPtr + 8 * groups * 2 * c));
      f[coefPtr / 4] = coef[0]!;
      runner.batchNormGradApply(dyPtr, yPtr, xPtr, dxPtr, coefPtr, m, c);
      const g = new Float32Array(memory.buffer);
      results.push({ sums, gsums, y: g.slice(yPtr / 4, yPtr / 4 + m * c), dx: g.slice(dxPtr / 4, dxPtr / 4 + m * c) });
    }
    for (const r of results.slice(1)) {
      expect(Array.from(r.sums)).toEqual(Array.from(results[0]!.sums));
      expect(Array.from(r.gsums)).toEqual(Array.from(results[0]!.gsums));
      expect(Array.from(r.y)).toEqual(Array.from(results[0]!.y));
      expect(Array.from(r.dx)).toEqual(Array.from(results[0]!.dx));
    }
    // Σx of channel 0 from the groups, against float64 directly (float32 block sums of 16 positions).
    let direct = 0;
    for (let p = 0; p < m; p++) direct += x[p * c]!;
    let grouped = 0;
    for (let gi = 0; gi < 8; gi++) grouped += results[0]!.sums[gi * 2 * c]!;
    expect(Math.abs(grouped - direct) / Math.abs(direct)).toBeLessThan(1e-6);
  });
});
