import * as tf from '@tensorflow/tfjs-core';
import { stockKernel, type WasmBackendLike } from './kernel-utils';

/**
 * `Slice` for wasm, replacing the stock kernel, which first copies the whole input out of the wasm
 * heap (`readSync`: a fresh buffer per call, ~30 ms for 9 MB) and then copies one innermost row at a
 * time. This one copies straight from heap view to heap view, in runs as long as the slice allows
 * (trailing axes taken whole merge into one run). Non-numeric dtypes go to the stock kernel.
 */
export function sliceWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stock.call(args);
    const backend = args.backend as WasmBackendLike;
    const attrs = args.attrs as unknown as tf.SliceAttrs;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    const out = backend.makeOutput(size, x.dtype);
    if (tf.util.sizeFromShape(size) === 0) return out;
    const outValues = backend.typedArrayFromHeap(out);
    const xValues = backend.typedArrayFromHeap(x);
    copyWindow(xValues, x.shape, outValues, begin, size);
    return out;
}

const stock = stockKernel('Slice');

/** Remembers the stock `Slice` kernel (string tensors go to it). */
export const keepStockSlice = stock.keep;

/** Copies the window `begin … begin + size` of `src` (of `shape`) into `dst`, in contiguous runs. */
export function copyWindow(src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, shape: readonly number[], dst: { set(a: ArrayLike<number>, offset: number): void }, begin: readonly number[], size: readonly number[]): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.set(src.subarray(0, 1), 0);
    return;
  }
  // The run: the innermost axis plus every outer axis whose inner axes are all taken whole.
  let inner = rank - 1;
  let run = size[rank - 1]!;
  while (inner > 0 && size[inner] === shape[inner]) {
    inner--;
    run *= size[inner]!;
  }
  const strides = tf.util.computeStrides(shape as number[]);
  const outer = size.slice(0, inner);
  const count = tf.util.sizeFromShape(outer);
  const index = new Array<number>(inner).fill(0);
  let base = 0;
  for (let a = 0; a < rank; a++) base += (begin[a] ?? 0) * (a < rank - 1 ? strides[a]! : 1);
  for (let r = 0; r < count; r++) {
    let offset = base;
    for (let a = 0; a < inner; a++) offset += index[a]! * strides[a]!;
    dst.set(src.subarray(offset, offset + run), r * run);
    for (let a = inner - 1; a >= 0; a--) {
      if (++index[a]! < outer[a]!) break;
      index[a] = 0;
    }
  }
}
