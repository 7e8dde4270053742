import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './kernel-utils';

/** The internals of tfjs-backend-wasm 4.22's `BackendWasm` that a heap view needs. */
interface WasmBackendInternals extends WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } | undefined; has(dataId: tf.DataId): boolean; delete(dataId: tf.DataId): boolean };
  wasm: { tfjs: { disposeData(id: number): void }; wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
}

function internals(backend: unknown): WasmBackendInternals | undefined {
  const b = backend as Partial<WasmBackendInternals>;
  return typeof b.makeOutput === 'function' && b.dataIdMap !== undefined && typeof b.wasm?.tfjs?.disposeData === 'function' ? (b as WasmBackendInternals) : undefined;
}

/**
 * Runs `f` with a float32 tensor of `shape` that is a window of `base`'s wasm memory starting at
 * element `offset` (no copy), for wasm kernels to read. The view is unregistered afterwards without
 * freeing the memory it points into; `f` must not keep it or return it.
 */
export function withHeapView<T>(backend: unknown, base: tf.TensorInfo, offset: number, shape: number[], f: (view: tf.TensorInfo) => T): T {
  const b = internals(backend);
  const data = b?.dataIdMap.get(base.dataId);
  if (!b || !data) throw new Error('withHeapView needs a tensor of the wasm backend');
  if (base.dtype !== 'float32') throw new Error(`withHeapView needs a float32 tensor, got ${base.dtype}`);
  const size = tf.util.sizeFromShape(shape);
  const baseSize = tf.util.sizeFromShape(base.shape);
  if (!(Number.isInteger(offset) && offset >= 0 && offset + size <= baseSize)) throw new Error(`withHeapView: window [${offset}, ${offset + size}) outside a tensor of ${baseSize} elements`);
  const view = b.makeOutput(shape, 'float32', data.memoryOffset + 4 * offset);
  try {
    return f(view);
  } finally {
    const id = b.dataIdMap.get(view.dataId)?.id;
    b.dataIdMap.delete(view.dataId);
    if (id !== undefined) b.wasm.tfjs.disposeData(id);
  }
}

/** True when {@link withHeapView} works on the current backend. */
export function heapViewsAvailable(): boolean {
  return internals(tf.backend()) !== undefined && tf.getBackend() === 'wasm';
}

/** The wasm backend's memory and the byte offsets of its tensors, for kernels that work in place. */
export interface HeapMemory {
  /** The WebAssembly memory holding every tensor (shared in the multi-threaded build). */
  readonly memory: WebAssembly.Memory;
  /** Byte offset of a tensor's data. */
  offset(t: tf.TensorInfo): number;
  /** A new, uninitialised tensor of the backend. */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** Sets every element of a float32 tensor of the backend to `value`. */
  fill(t: tf.TensorInfo, value: number): void;
  /** Runs `f` with the byte offset of `floats` floats of scratch memory, freed afterwards. */
  withScratch<T>(floats: number, f: (ptr: number) => T): T;
  /** Frees memory from {@link makeOutput} that no tensor owns (a kernel's own long-lived buffer). */
  release(t: tf.TensorInfo): void;
  /** Whether the backend still holds data for `dataId` (false once every tensor of it was disposed). */
  holds(dataId: tf.DataId): boolean;
}

/** The memory of a wasm backend (tfjs-backend-wasm 4.22), or `undefined` for any other backend. */
export function heapMemory(backend: unknown): HeapMemory | undefined {
  const b = internals(backend);
  const memory = b?.wasm.wasmMemory ?? b?.wasm.asm?.memory;
  if (!b || !(memory instanceof WebAssembly.Memory)) return undefined;
  return {
    memory,
    offset: (t) => {
      const data = b.dataIdMap.get(t.dataId);
      if (!data) throw new Error('heapMemory: the tensor does not belong to the wasm backend');
      return data.memoryOffset;
    },
    makeOutput: (shape, dtype) => b.makeOutput(shape, dtype),
    fill: (t, value) => {
      const offset = b.dataIdMap.get(t.dataId)!.memoryOffset / 4;
      new Float32Array(memory.buffer).fill(value, offset, offset + tf.util.sizeFromShape(t.shape));
    },
    release: (t) => {
      b.disposeData(t.dataId, true);
    },
    // has(), not get(): get() of an unknown id asks the engine to move it from another backend
    holds: (dataId) => b.dataIdMap.has(dataId),
    withScratch: (floats, f) => {
      const scratch = b.makeOutput([Math.max(1, floats)], 'float32');
      try {
        return f(b.dataIdMap.get(scratch.dataId)!.memoryOffset);
      } finally {
        b.disposeData(scratch.dataId, true);
      }
    },
  };
}
