import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_ACT, BATCH_NORM_ACT_GRAD, type BatchNormActAttrs } from '@lico/core';
import { convGradRunnerFor, type ConvGradRunner } from './conv-grad-kernels';
import type { HeapMemory } from './heap-view';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export { BATCH_NORM_ACT, BATCH_NORM_ACT_GRAD };

/** Asserts an NHWC float32 `x` and per-channel float32 parameters; returns `[m, c]`. */
function checkShapes(kernel: string, x: tf.TensorInfo, perChannel: Record<string, tf.TensorInfo>): [number, number] {
  if (x.dtype !== 'float32' || x.shape.length !== 4) throw new Error(`${kernel}: x must be a float32 NHWC tensor, got ${x.dtype} [${x.shape}]`);
  const c = x.shape[3]!;
  for (const [name, t] of Object.entries(perChannel)) {
    if (t.dtype !== 'float32' || t.shape.length !== 1 || t.shape[0] !== c) throw new Error(`${kernel}: ${name} must be float32 [${c}] for x [${x.shape}], got ${t.dtype} [${t.shape}]`);
  }
  return [x.shape[0]! * x.shape[1]! * x.shape[2]!, c];
}

function runnerOf(kernel: string, backend: unknown): { heap: HeapMemory; runner: ConvGradRunner } {
  const simd = convGradRunnerFor(backend);
  if (!simd) throw new Error(`${kernel}: lico's wasm module could not be instantiated on this backend's memory`);
  return simd;
}

/** Adds the groups' float64 sums (`groups × 2c` doubles at byte `ptr`) in group order: `[s1, s2]` per channel. */
function groupSums(memory: WebAssembly.Memory, ptr: number, groups: number, c: number): [Float64Array, Float64Array] {
  const all = new Float64Array(memory.buffer, ptr, groups * 2 * c);
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let g = 0; g < groups; g++) {
    for (let ch = 0; ch < c; ch++) {
      s1[ch] += all[g * 2 * c + ch]!;
      s2[ch] += all[g * 2 * c + c + ch]!;
    }
  }
  return [s1, s2];
}

/**
 * `LicoBatchNormAct` for wasm: training-mode batch norm of an NHWC tensor and the LeakyReLU that
 * follows it (slope `alpha`; 0 = ReLU, 1 = none) in two SIMD passes over `x` (per-channel Σx and
 * Σx² in float64, then `y = act(x·scale + shift)`), split over the backend's threads with results
 * independent of the thread count. Outputs `[y, mean, variance]` (biased variance).
 */
export function batchNormActWasm(args: KernelArgs): tf.TensorInfo[] {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { epsilon, alpha } = args.attrs as unknown as BatchNormActAttrs;
  const [m, c] = checkShapes(BATCH_NORM_ACT, x, { gamma, beta });
  const { heap, runner } = runnerOf(BATCH_NORM_ACT, args.backend);
  const y = heap.makeOutput(x.shape.slice(), 'float32');
  const mean = heap.makeOutput([c], 'float32');
  const variance = heap.makeOutput([c], 'float32');
  if (m === 0) {
    heap.fill(mean, Number.NaN);
    heap.fill(variance, Number.NaN);
    return [y, mean, variance];
  }
  const groups = runner.batchNormGroups(m);
  // scratch: the groups' sums (float64), then the coefficients (scale, shift, alpha)
  heap.withScratch(groups * 4 * c + 2 * c + 1, (scratch) => {
    runner.batchNormSums(heap.offset(x), scratch, m, c);
    const [sx, sxx] = groupSums(heap.memory, scratch, groups, c);
    const f = new Float32Array(heap.memory.buffer);
    const coef = scratch + 8 * groups * 2 * c;
    const g = f.subarray(heap.offset(gamma) / 4, heap.offset(gamma) / 4 + c);
    const b = f.subarray(heap.offset(beta) / 4, heap.offset(beta) / 4 + c);
    const mu = f.subarray(heap.offset(mean) / 4, heap.offset(mean) / 4 + c);
    const vr = f.subarray(heap.offset(variance) / 4, heap.offset(variance) / 4 + c);
    const co = f.subarray(coef / 4, coef / 4 + 2 * c + 1);
    for (let ch = 0; ch < c; ch++) {
      const mch = sx[ch]! / m;
      const v = Math.max(0, sxx[ch]! / m - mch * mch);
      const scale = g[ch]! / Math.sqrt(v + epsilon);
      mu[ch] = mch;
      vr[ch] = v;
      co[ch] = scale;
      co[c + ch] = b[ch]! - mch * scale;
    }
    co[2 * c] = alpha;
    runner.batchNormApply(heap.offset(x), heap.offset(y), coef, m, c);
  });
  return [y, mean, variance];
}

/**
 * `LicoBatchNormActGrad` for wasm: `[dx, dGamma, dBeta]` of {@link batchNormActWasm} in two SIMD
 * passes (per-channel Σdz and Σdz·x in float64 with `dz = y > 0 ? dy : alpha·dy`, then
 * `dx = dz·a + x·b + k` with per-channel coefficients), threaded as the forward pass.
 */
export function batchNormActGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const { dy, x, y, gamma, mean, variance } = args.inputs as Record<'dy' | 'x' | 'y' | 'gamma' | 'mean' | 'variance', tf.TensorInfo>;
  const { epsilon, alpha } = args.attrs as unknown as BatchNormActAttrs;
  const [m, c] = checkShapes(BATCH_NORM_ACT_GRAD, x, { gamma, mean, variance });
  for (const [name, t] of [['dy', dy], ['y', y]] as const) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, x.shape)) throw new Error(`${BATCH_NORM_ACT_GRAD}: ${name} must be float32 [${x.shape}], got ${t.dtype} [${t.shape}]`);
  }
  const { heap, runner } = runnerOf(BATCH_NORM_ACT_GRAD, args.backend);
  const dx = heap.makeOutput(x.shape.slice(), 'float32');
  const dGamma = heap.makeOutput([c], 'float32');
  const dBeta = heap.makeOutput([c], 'float32');
  if (m === 0) {
    heap.fill(dGamma, 0);
    heap.fill(dBeta, 0);
    return [dx, dGamma, dBeta];
  }
  const groups = runner.batchNormGroups(m);
  heap.withScratch(groups * 4 * c + 3 * c + 1, (scratch) => {
    const coef = scratch + 8 * groups * 2 * c;
    let f = new Float32Array(heap.memory.buffer);
    f[coef / 4] = alpha;
    runner.batchNormSums(heap.offset(x), scratch, m, c, { dyPtr: heap.offset(dy), yPtr: heap.offset(y), coefPtr: coef });
    const [sdz, sdzx] = groupSums(heap.memory, scratch, groups, c);
    f = new Float32Array(heap.memory.buffer);
    const at = (t: tf.TensorInfo) => f.subarray(heap.offset(t) / 4, heap.offset(t) / 4 + c);
    const [g, mu, vr, dg, db] = [at(gamma), at(mean), at(variance), at(dGamma), at(dBeta)];
    const co = f.subarray(coef / 4, coef / 4 + 3 * c + 1);
    for (let ch = 0; ch < c; ch++) {
      const inv = 1 / Math.sqrt(vr[ch]! + epsilon);
      const scale = g[ch]! * inv;
      const centred = sdzx[ch]! - mu[ch]! * sdz[ch]!; // Σ dz·(x − μ)
      dg[ch] = centred * inv;
      db[ch] = sdz[ch]!;
      // dx = scale·(dz − Σdz/m − (x − μ)·inv²·Σdz(x − μ)/m)
      const b = (-scale * inv * inv * centred) / m;
      co[ch] = scale;
      co[c + ch] = b;
      co[2 * c + ch] = (-scale * sdz[ch]!) / m - mu[ch]! * b;
    }
    co[3 * c] = alpha;
    runner.batchNormGradApply(heap.offset(dy), heap.offset(y), heap.offset(x), heap.offset(dx), coef, m, c);
  });
  return [dx, dGamma, dBeta];
}
