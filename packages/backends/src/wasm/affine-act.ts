import * as tf from '@tensorflow/tfjs-core';
import { AFFINE_ACT, AFFINE_ACT_GRAD, type AffineActAttrs } from '@lico/core';
import { convGradRunnerFor } from './conv-grad-kernels';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export { AFFINE_ACT, AFFINE_ACT_GRAD };

/** Asserts float32 tensors of `x`'s shape and per-channel ones of its last axis; returns `[m, c]`. */
function checkInputs(kernel: string, x: tf.TensorInfo, full: Record<string, tf.TensorInfo>, perChannel: Record<string, tf.TensorInfo>, alpha: number): [number, number] {
  if (x.dtype !== 'float32' || x.shape.length === 0) throw new Error(`${kernel}: x must be a float32 tensor of rank >= 1, got ${x.dtype} [${x.shape}]`);
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new Error(`${kernel}: alpha must be a finite number >= 0, got ${alpha}`);
  const c = x.shape[x.shape.length - 1]!;
  for (const [name, t] of Object.entries(full)) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, x.shape)) throw new Error(`${kernel}: ${name} must be float32 [${x.shape}], got ${t.dtype} [${t.shape}]`);
  }
  for (const [name, t] of Object.entries(perChannel)) {
    if (t.dtype !== 'float32' || t.shape.length !== 1 || t.shape[0] !== c) throw new Error(`${kernel}: ${name} must be float32 [${c}] for x [${x.shape}], got ${t.dtype} [${t.shape}]`);
  }
  return [c === 0 ? 0 : tf.util.sizeFromShape(x.shape) / c, c];
}

function simdOf(kernel: string, backend: unknown) {
  const simd = convGradRunnerFor(backend);
  if (!simd) throw new Error(`${kernel}: lico's wasm module could not be instantiated on this backend's memory`);
  return simd;
}

/**
 * `LicoAffineAct` for wasm: `y = act(x·scale + shift)` per channel (last axis; LeakyReLU slope
 * `alpha`, 0 = ReLU, 1 = none) in one SIMD pass of lico's module (the training batch norm's apply
 * pass), threaded; each element is one multiply-add, so the result does not depend on the threads.
 */
export function affineActWasm(args: KernelArgs): tf.TensorInfo {
  const { x, scale, shift } = args.inputs as { x: tf.TensorInfo; scale: tf.TensorInfo; shift: tf.TensorInfo };
  const { alpha } = args.attrs as unknown as AffineActAttrs;
  const [m, c] = checkInputs(AFFINE_ACT, x, {}, { scale, shift }, alpha);
  const { heap, runner } = simdOf(AFFINE_ACT, args.backend);
  const y = heap.makeOutput(x.shape.slice(), 'float32');
  if (m * c === 0) return y;
  heap.withScratch(2 * c + 1, (coef) => {
    const f = new Float32Array(heap.memory.buffer);
    f.copyWithin(coef / 4, heap.offset(scale) / 4, heap.offset(scale) / 4 + c);
    f.copyWithin(coef / 4 + c, heap.offset(shift) / 4, heap.offset(shift) / 4 + c);
    f[coef / 4 + 2 * c] = alpha;
    runner.batchNormApply(heap.offset(x), heap.offset(y), coef, m, c);
  });
  return y;
}

/** `LicoAffineActGrad` for wasm: `dx = (y > 0 ? dy : alpha·dy)·scale` in one SIMD pass, threaded. */
export function affineActGradWasm(args: KernelArgs): tf.TensorInfo {
  const { dy, y, scale } = args.inputs as { dy: tf.TensorInfo; y: tf.TensorInfo; scale: tf.TensorInfo };
  const { alpha } = args.attrs as unknown as AffineActAttrs;
  const [m, c] = checkInputs(AFFINE_ACT_GRAD, dy, { y }, { scale }, alpha);
  const { heap, runner } = simdOf(AFFINE_ACT_GRAD, args.backend);
  const dx = heap.makeOutput(dy.shape.slice(), 'float32');
  if (m * c === 0) return dx;
  heap.withScratch(c + 1, (coef) => {
    const f = new Float32Array(heap.memory.buffer);
    f.copyWithin(coef / 4, heap.offset(scale) / 4, heap.offset(scale) / 4 + c);
    f[coef / 4 + c] = alpha;
    runner.affineActGrad(heap.offset(dy), heap.offset(y), heap.offset(dx), coef, m, c);
  });
  return dx;
}
