import * as tf from '@tensorflow/tfjs-core';
import { outputFromOps, stockKernel, type WasmBackendLike } from './kernel-utils';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const stock = { Sum: stockKernel('Sum'), Mean: stockKernel('Mean') };

/** Accumulators of {@link reduceMiddle}, grown on demand and reused. */
let scratch = new Float64Array(256);

/**
 * `out[o, i] = Σ_m x[o, m, i]` (÷ `mid` when `mean`) for `x` viewed as `[outer, mid, inner]`, with
 * float64 accumulators: one JavaScript pass, no transpose.
 */
function reduceMiddle(x: ArrayLike<number>, out: Float32Array, outer: number, mid: number, inner: number, mean: boolean): void {
  if (scratch.length < inner) scratch = new Float64Array(inner);
  const acc = scratch;
  const scale = mean ? 1 / mid : 1;
  const i2 = 2 * inner;
  const i3 = 3 * inner;
  for (let o = 0; o < outer; o++) {
    acc.fill(0, 0, inner);
    let base = o * mid * inner;
    let m = 0;
    // Four rows per sweep of the accumulators (2× faster than one).
    for (; m + 4 <= mid; m += 4, base += 4 * inner) {
      for (let i = 0; i < inner; i++) {
        const b = base + i;
        acc[i]! += x[b]! + x[b + inner]! + (x[b + i2]! + x[b + i3]!);
      }
    }
    for (; m < mid; m++, base += inner) for (let i = 0; i < inner; i++) acc[i]! += x[base + i]!;
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i]! * scale;
  }
}

/** Smallest H·W for which the spatial reduction goes through XNNPACK's average pooling. */
const POOL_MIN_WINDOW = 16;

/**
 * Sum or mean of an NHWC tensor over H, W (and N when `overBatch`): XNNPACK's average pooling over
 * the whole H×W window (SIMD, threaded, float32 accumulation; ~6× the JavaScript pass) gives the
 * per-image means, which are then averaged over N (a small JavaScript pass) and scaled to a sum.
 */
function reduceSpatial(x: tf.Tensor4D, overBatch: boolean, mean: boolean, outShape: number[]): tf.Tensor {
  const [n, h, w, c] = x.shape;
  let r: tf.Tensor = tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [n, c]);
  if (overBatch) r = tf.mean(r, 0);
  if (!mean) r = tf.mul(r, overBatch ? n * h * w : h * w);
  return tf.reshape(r, outShape);
}

function reduceKernel(name: 'Sum' | 'Mean'): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const contiguous = axes.length > 0 && axes.every((a, k) => a === axes[0]! + k);
    // The stock kernel is fast when the reduced axes are innermost (no transpose); take the rest.
    const innermost = contiguous && axes[axes.length - 1] === rank - 1;
    if (x.dtype !== 'float32' || !contiguous || innermost || tf.util.sizeFromShape(x.shape) === 0) {
      return stock[name].call(args);
    }
    const backend = args.backend as WasmBackendLike;
    const first = axes[0]!;
    const last = axes[axes.length - 1]!;
    const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
    const mid = tf.util.sizeFromShape(x.shape.slice(first, last + 1));
    const inner = tf.util.sizeFromShape(x.shape.slice(last + 1));
    const outShape = keepDims ? x.shape.map((d, a) => (a >= first && a <= last ? 1 : d)) : x.shape.filter((_, a) => a < first || a > last);
    if (rank === 4 && last === 2 && first <= 1 && x.shape[1]! * x.shape[2]! >= POOL_MIN_WINDOW) {
      return outputFromOps(backend, [x], (xt) => reduceSpatial(xt as tf.Tensor4D, first === 0, name === 'Mean', outShape));
    }
    const out = backend.makeOutput(outShape, 'float32');
    reduceMiddle(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out) as Float32Array, outer, mid, inner, name === 'Mean');
    return out;
  }) as unknown as tf.KernelFunc;
}

/**
 * `Sum` for wasm, replacing the stock kernel, which transposes the whole input whenever the reduced
 * axes are not the innermost ones (the per-channel sums over N, H, W of batch norm and bias
 * gradients). Float32 reductions of NHWC tensors over H, W or N, H, W run through XNNPACK's
 * average pooling over the whole image; other float32 reductions over a contiguous block of axes
 * that is not innermost run as one JavaScript pass with float64 accumulators; everything else goes
 * to the stock kernel.
 */
export const sumWasm = reduceKernel('Sum');

/** `Mean` for wasm, replacing the stock kernel in the same cases as {@link sumWasm}. */
export const meanWasm = reduceKernel('Mean');

/** Remembers the stock `Sum` kernel (the cases the replacement hands back). */
export const keepStockSum = stock.Sum.keep;

/** Remembers the stock `Mean` kernel (the cases the replacement hands back). */
export const keepStockMean = stock.Mean.keep;
