import * as tf from '@tensorflow/tfjs-core';
import { convGradRunnerFor } from './conv-grad-kernels';
import { stockKernel } from './kernel-utils';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const stock = stockKernel('Add');

/** Remembers the stock `Add` kernel (every case but a same-shape sum or a per-channel broadcast goes to it). */
export const keepStockAdd = stock.keep;

/** Below this many elements a same-shape sum stays with the stock kernel (one thread is as fast). */
const SAME_SHAPE_MIN = 1 << 16;

/**
 * `Add` for wasm, replacing the stock kernel in two float32 cases:
 * - the same shape, at least {@link SAME_SHAPE_MIN} elements (a residual sum): lico's SIMD sum
 *   shared by lico's kernel threads (the stock kernel runs on XNNPACK's one thread here); each
 *   element one rounding, as the stock kernel;
 * - a tensor of rank >= 2 plus a vector of its last axis' length (a bias), in either order. The
 *   stock kernel takes ~4–5 ns per element there (a scalar broadcasting loop, 10× its same-shape
 *   add); this runs lico's one SIMD pass `x·1 + bias` (the batch-norm apply pass with scale 1 and
 *   no activation), threaded, whose value is exactly the sum (`x·1` is exact; one rounding either way).
 * Others: stock.
 */
export function addWasm(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (a.dtype === 'float32' && b.dtype === 'float32' && tf.util.arraysEqual(a.shape, b.shape) && tf.util.sizeFromShape(a.shape) >= SAME_SHAPE_MIN) {
    const simd = convGradRunnerFor(args.backend);
    if (!simd) return stock.call(args) as tf.TensorInfo;
    const out = simd.heap.makeOutput(a.shape.slice(), 'float32');
    simd.runner.add(simd.heap.offset(a), simd.heap.offset(b), simd.heap.offset(out), tf.util.sizeFromShape(a.shape));
    return out;
  }
  const [full, vec] = a.shape.length === 1 && b.shape.length >= 2 ? [b, a] : [a, b];
  const c = full.shape[full.shape.length - 1];
  const size = tf.util.sizeFromShape(full.shape);
  const simd = full.dtype === 'float32' && vec.dtype === 'float32' && full.shape.length >= 2 && vec.shape.length === 1 && vec.shape[0] === c && size > 0 ? convGradRunnerFor(args.backend) : undefined;
  if (!simd || c === undefined) return stock.call(args) as tf.TensorInfo;
  const { heap, runner } = simd;
  const out = heap.makeOutput(full.shape.slice(), 'float32');
  heap.withScratch(2 * c + 1, (coef) => {
    const f = new Float32Array(heap.memory.buffer);
    f.fill(1, coef / 4, coef / 4 + c);
    f.copyWithin(coef / 4 + c, heap.offset(vec) / 4, heap.offset(vec) / 4 + c);
    f[coef / 4 + 2 * c] = 1; // alpha 1: no activation
    runner.batchNormApply(heap.offset(full), heap.offset(out), coef, size / c, c);
  });
  return out;
}
