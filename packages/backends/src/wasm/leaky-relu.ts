import * as tf from '@tensorflow/tfjs-core';
import { outputFromOps, stockKernel, type WasmBackendLike } from './kernel-utils';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The kernel that computes the LeakyReLU gradient in one pass (registered for wasm only). */
export const LEAKY_RELU_GRAD = 'LicoLeakyReluGrad';

const stock = stockKernel('LeakyRelu');

/** Remembers the stock `LeakyRelu` kernel (non-float32 inputs go to it). */
export const keepStockLeakyRelu = stock.keep;

/**
 * `LeakyRelu` for wasm, replacing the stock kernel (~6 ns per element, 40× a ReLU): XNNPACK's PReLU
 * (SIMD, threaded) with every channel's slope set to `alpha` (in float32), `x < 0 ? alpha·x : x`.
 * Non-float32 inputs and scalars: stock.
 */
export function leakyReluWasm(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const prelu = tf.getKernel('Prelu', 'wasm');
  if (x.dtype !== 'float32' || x.shape.length === 0 || !prelu || tf.util.sizeFromShape(x.shape) === 0) {
    return stock.call(args);
  }
  const alpha = (args.attrs as unknown as tf.LeakyReluAttrs).alpha;
  const backend = args.backend as WasmBackendLike & { disposeData(dataId: tf.DataId): boolean };
  const slopes = backend.makeOutput([x.shape[x.shape.length - 1]!], 'float32');
  try {
    (backend.typedArrayFromHeap(slopes) as Float32Array).fill(alpha);
    return prelu.kernelFunc({ inputs: { x, alpha: slopes }, backend: backend as never, attrs: {} }) as tf.TensorInfo;
  } finally {
    backend.disposeData(slopes.dataId);
  }
}

/**
 * `LicoLeakyReluGrad` for wasm: `dx = x > 0 ? dy : alpha·dy` (the stock gradient runs Greater,
 * Multiply and Select, the first slow on wasm) as `dy · step(x, alpha)`, two SIMD passes; the
 * factor is exactly 1 or alpha in float32, so the result equals tfjs-core's formula.
 */
export function leakyReluGradWasm(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const alpha = (args.attrs as unknown as tf.LeakyReluAttrs).alpha;
  return outputFromOps(args.backend as WasmBackendLike, [dy, x], (g, v) => tf.mul(g, tf.step(v, alpha)));
}

/**
 * The LeakyRelu gradient that lico registers in place of tfjs-core's: the one-pass kernel when the
 * active backend has it (float32, same shapes), else tfjs-core's own formula
 * `where(x > 0, dy, alpha·dy)`. First-order only on wasm (the kernel has no gradient itself).
 */
export const leakyReluGradConfig: tf.GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const alpha = (attrs as unknown as tf.LeakyReluAttrs).alpha;
    const g = dy as tf.Tensor;
    return {
      x: () => {
        if (tf.getKernel(LEAKY_RELU_GRAD, tf.getBackend()) && g.dtype === 'float32' && x.dtype === 'float32' && tf.util.arraysEqual(g.shape, x.shape)) {
          return tf.engine().runKernel(LEAKY_RELU_GRAD, { dy: g, x }, { alpha } as unknown as tf.NamedAttrMap) as tf.Tensor;
        }
        return tf.where(tf.greater(x, 0), g, tf.mul(g, alpha));
      },
    };
  },
};
