import * as tf from '@tensorflow/tfjs-core';
import { stockKernel, type WasmBackendLike } from './kernel-utils';

const stock = stockKernel('Identity');

/** Remembers the stock `Identity` kernel (string tensors go to it). */
export const keepStockIdentity = stock.keep;

/**
 * `Identity` for wasm, replacing the stock kernel, which copies the whole tensor: tfjs clones every
 * tensor a gradient saves (278 full copies per WRN-28-2 training step). Tensor data is immutable,
 * so the clone shares it (one more reference), as the cpu backend's Identity does.
 */
export function identityWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return stock.call(args);
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}
