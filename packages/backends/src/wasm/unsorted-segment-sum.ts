import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './kernel-utils';

/**
 * `UnsortedSegmentSum` for wasm (the stock backend has none; it is the gradient of `gather`, i.e.
 * of an embedding lookup): out[segmentIds[i], …] += x[i, …], one pass in JavaScript over the wasm
 * heap. Ids outside `[0, numSegments)` are dropped, as on the cpu backend.
 */
export function unsortedSegmentSumWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const idsRank = segmentIds.shape.length;
  const inner = tf.util.sizeFromShape(x.shape.slice(idsRank));
  const count = tf.util.sizeFromShape(segmentIds.shape);
  const outShape = [numSegments, ...x.shape.slice(idsRank)];
  // Allocate first: allocation may grow the heap and detach earlier views.
  const out = backend.makeOutput(outShape, x.dtype);
  const outValues = backend.typedArrayFromHeap(out);
  outValues.fill(0);
  const xValues = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  for (let i = 0; i < count; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) outValues[dst + k] += xValues[src + k]!;
  }
  return out;
}
