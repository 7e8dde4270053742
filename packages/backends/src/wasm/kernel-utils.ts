import * as tf from '@tensorflow/tfjs-core';

/** The part of the wasm backend (`BackendWasm`) that lico's kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: tf.DataId): void;
}

/** A stock kernel that a lico kernel replaces and hands the cases it does not cover back to. */
export interface StockKernel {
  /** Records the stock kernel (registration passes it here before replacing it). */
  keep(f: tf.KernelFunc): void;
  /** Runs the recorded stock kernel on `args`; throws if none was recorded. */
  call(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[];
}

/** A holder for the stock `kernelName` kernel of the wasm backend. */
export function stockKernel(kernelName: string): StockKernel {
  let stock: tf.KernelFunc | undefined;
  return {
    keep: (f) => {
      stock = f;
    },
    call: (args) => {
      if (!stock) throw new Error(`${kernelName} on wasm: the stock kernel was not recorded`);
      return stock(args as Parameters<tf.KernelFunc>[0]);
    },
  };
}

/** A kernel input as a Tensor (the engine passes Tensors; wrap bare TensorInfos to be safe). */
export function asTensor(info: tf.TensorInfo, owned: tf.Tensor[]): tf.Tensor {
  if (info instanceof tf.Tensor) return info;
  const t = tf.engine().makeTensorFromTensorInfo(info);
  owned.push(t);
  return t;
}

/**
 * Runs tensor ops (fast wasm kernels) inside a kernel and hands their result back as the kernel's
 * output: intermediates are disposed, the result's data survives by taking a backend reference
 * before the wrapping tensor is disposed.
 */
export function outputFromOps(backend: WasmBackendLike, inputs: readonly tf.TensorInfo[], compute: (...xs: tf.Tensor[]) => tf.Tensor): tf.TensorInfo {
  const owned: tf.Tensor[] = [];
  try {
    const result = tf.tidy(() => compute(...inputs.map((i) => asTensor(i, owned))));
    backend.incRef(result.dataId);
    const info: tf.TensorInfo = { dataId: result.dataId, shape: result.shape.slice(), dtype: result.dtype };
    result.dispose();
    return info;
  } finally {
    for (const t of owned) t.dispose();
  }
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor. */
export function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t0 = Math.max(0, -top);
    const l0 = Math.max(0, -left);
    y = tf.slice(y, [0, t0, l0, 0], [b, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c]);
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = tf.pad(y, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]]);
  }
  return y;
}

/**
 * A stride-1 NHWC convolution after padding (positive amounts, passed to the convolution as
 * explicit padding: no copy) or cropping (negative amounts) the input's spatial axes.
 */
export function convPadded(x: tf.Tensor4D, filter: tf.Tensor4D, top: number, bottom: number, left: number, right: number, dilations: [number, number] = [1, 1]): tf.Tensor4D {
  const cropped = padOrCrop(x, Math.min(0, top), Math.min(0, bottom), Math.min(0, left), Math.min(0, right));
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
  return tf.conv2d(cropped, filter, 1, pad, 'NHWC', dilations);
}
