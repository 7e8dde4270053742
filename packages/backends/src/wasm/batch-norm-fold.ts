import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_FOLD, type BatchNormFoldAttrs } from '@lico/core';
import type { WasmBackendLike } from './kernel-utils';

export { BATCH_NORM_FOLD };

/**
 * `LicoBatchNormFold` for wasm: `scale = γ·(1/√(σ²+ε))`, `shift = β − μ·scale` in one JavaScript
 * pass over the heap, each step rounded to float32 as the stock kernels round it (so the same bits
 * as `mul(γ, reciprocal(sqrt(add(σ², ε))))` and `sub(β, mul(μ, scale))`): one kernel call instead
 * of six per batch-norm layer.
 */
export function batchNormFoldWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const named = args.inputs as Record<'gamma' | 'beta' | 'mean' | 'variance', tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as BatchNormFoldAttrs;
  const gamma = named.gamma;
  for (const key of ['gamma', 'beta', 'mean', 'variance'] as const) {
    const t = named[key];
    if (!t || t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, gamma.shape)) {
      throw new Error(`${BATCH_NORM_FOLD}: gamma, beta, mean and variance must be float32 of one shape; gamma is ${gamma.dtype} [${gamma.shape}], ${key} ${t ? `${t.dtype} [${t.shape}]` : 'missing'}`);
    }
  }
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new Error(`${BATCH_NORM_FOLD}: epsilon must be a finite number > 0, got ${epsilon}`);
  // Allocate first: allocation may grow the heap and detach earlier views.
  const scaleInfo = backend.makeOutput(gamma.shape.slice(), 'float32');
  const shiftInfo = backend.makeOutput(gamma.shape.slice(), 'float32');
  const [scale, shift, g, b, m, v] = [scaleInfo, shiftInfo, gamma, named.beta, named.mean, named.variance].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const f = Math.fround;
  const eps = f(epsilon);
  for (let i = 0; i < scale!.length; i++) {
    // float32 sqrt and 1/x are correctly rounded, as Math.fround of the double result is
    const s = f(g![i]! * f(1 / f(Math.sqrt(f(v![i]! + eps)))));
    scale![i] = s;
    shift![i] = f(b![i]! - f(m![i]! * s));
  }
  return [scaleInfo, shiftInfo];
}
