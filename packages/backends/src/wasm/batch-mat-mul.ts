import * as tf from '@tensorflow/tfjs-core';
import { convGradRunnerFor } from './conv-grad-kernels';
import { stockKernel } from './kernel-utils';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const stock = stockKernel('BatchMatMul');

/** Remembers the stock `BatchMatMul` kernel (non-float32 inputs go to it). */
export const keepStockBatchMatMul = stock.keep;

/**
 * `BatchMatMul` for wasm, replacing the stock kernel (fast through XNNPACK only for one plain 2-D
 * product; with a transposed operand 25–90× slower, and ~1.4 GMAC/s for batches, which every
 * dense layer's gradient and every attention runs): lico's SIMD kernel (`csrc/conv-grad.c`) packs
 * b into column groups (transposing a if asked), then computes 4 rows × 8 columns per register
 * tile over the whole inner dimension, rows split over the backend's threads. Batch dimensions
 * broadcast as in tfjs (each side's flattened batch is 1 or the output's). Non-float32: stock.
 */
export function batchMatMulWasm(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const simd = a.dtype === 'float32' && b.dtype === 'float32' ? convGradRunnerFor(args.backend) : undefined;
  if (!simd) return stock.call(args) as tf.TensorInfo;
  if (a.shape.length < 2 || b.shape.length < 2) throw new Error(`BatchMatMul needs rank ≥ 2, got a [${a.shape}] and b [${b.shape}]`);
  const m = transposeA ? a.shape.at(-1)! : a.shape.at(-2)!;
  const k = transposeA ? a.shape.at(-2)! : a.shape.at(-1)!;
  const kb = transposeB ? b.shape.at(-1)! : b.shape.at(-2)!;
  const n = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
  if (k !== kb) throw new Error(`BatchMatMul: inner dimensions differ: a [${a.shape}]${transposeA ? 'ᵀ' : ''} and b [${b.shape}]${transposeB ? 'ᵀ' : ''} (${k} vs ${kb})`);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(outer);
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const { heap, runner } = simd;
  // Partial broadcasts (e.g. [2,1] with [1,3]) repeat neither side whole: hand them to the stock kernel.
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return stock.call(args) as tf.TensorInfo;
  const out = heap.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  if (k === 0) {
    heap.fill(out, 0);
    return out;
  }
  const dims = { batchA, batchB, m, n, k, transposeA: !!transposeA, transposeB: !!transposeB };
  heap.withScratch(runner.matMulScratch(dims), (scratch) => runner.matMul(heap.offset(a), heap.offset(b), heap.offset(out), scratch, dims));
  return out;
}
