import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './kernel-utils';

/** A backend that lets JavaScript read and write its tensors in place (the wasm backend). */
function heapBackend(): WasmBackendLike | undefined {
  const backend = tf.backend() as Partial<WasmBackendLike>;
  return typeof backend.makeOutput === 'function' && typeof backend.typedArrayFromHeap === 'function' ? (backend as WasmBackendLike) : undefined;
}

/**
 * Makes a float32 tensor of `shape` whose values a JavaScript pass `fill` writes (every element;
 * the memory starts uninitialised) from the values of `inputs`. On the wasm backend the pass works
 * in place on the wasm heap (no copies); on other backends it reads copies and uploads the result.
 * The returned tensor is tracked by the enclosing `tf.tidy`.
 */
export function jsPass(shape: number[], inputs: readonly tf.Tensor[], fill: (out: Float32Array, inputs: Float32Array[]) => void): tf.Tensor {
  const backend = heapBackend();
  if (!backend) {
    const out = new Float32Array(tf.util.sizeFromShape(shape));
    fill(
      out,
      inputs.map((t) => t.dataSync() as Float32Array),
    );
    return tf.tensor(out, shape, 'float32');
  }
  // Allocate first: allocation may grow the heap and detach earlier views.
  const info = backend.makeOutput(shape, 'float32');
  fill(
    backend.typedArrayFromHeap(info) as Float32Array,
    inputs.map((t) => backend.typedArrayFromHeap(t) as Float32Array),
  );
  return tf.engine().makeTensorFromTensorInfo(info);
}
