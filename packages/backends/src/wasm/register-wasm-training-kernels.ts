import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterWasm } from './conv2d-backprop-filter';
import { conv2dBackpropInputWasm } from './conv2d-backprop-input';
import { maxPoolGradWasm } from './max-pool-grad';
import { unsortedSegmentSumWasm } from './unsorted-segment-sum';

/** What one lico wasm training kernel does. */
export interface WasmTrainingKernel {
  /** The tfjs kernel name, e.g. `'Conv2DBackpropFilter'`. */
  readonly kernelName: string;
  /** `'added'`: the stock wasm backend lacks it; `'replaced'`: the stock one is wrong or slow. */
  readonly kind: 'added' | 'replaced';
  /** One line: how it is computed. */
  readonly how: string;
  readonly kernelFunc: tf.KernelFunc;
}

/** The kernels {@link registerWasmTrainingKernels} registers for the `'wasm'` backend. */
export const WASM_TRAINING_KERNELS: readonly WasmTrainingKernel[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    kind: 'added',
    how: 'forward conv (XNNPACK) of the transposed input with the transposed output gradient, dilated by the stride; matMul for 1×1',
    kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'Conv2DBackpropInput',
    kind: 'replaced',
    how: 'one stride-1 forward conv (XNNPACK) with a flipped per-phase filter bank, phases interleaved by reshape/transpose',
    kernelFunc: conv2dBackpropInputWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'UnsortedSegmentSum',
    kind: 'added',
    how: 'one JavaScript pass over the wasm heap (the gradient of gather / embedding lookup)',
    kernelFunc: unsortedSegmentSumWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'MaxPoolGrad',
    kind: 'replaced',
    how: 'one JavaScript pass routing each output gradient to the first maximum of its window (the stock kernel is wrong for batch or channels > 1)',
    kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc,
  },
];

/**
 * Registers lico's training kernels for the `'wasm'` backend (idempotent): it adds the kernels the
 * stock backend lacks (`Conv2DBackpropFilter`, `UnsortedSegmentSum`) and replaces wrong or slow
 * ones (`MaxPoolGrad`, `Conv2DBackpropInput`). Works before or after the backend is initialised.
 * Returns the names of the kernels it (re)registered this call (empty when already done).
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  const changed: string[] = [];
  for (const kernel of WASM_TRAINING_KERNELS) {
    const current = tf.getKernel(kernel.kernelName, 'wasm');
    if (current?.kernelFunc === kernel.kernelFunc) continue;
    if (current) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel({ kernelName: kernel.kernelName, backendName: 'wasm', kernelFunc: kernel.kernelFunc });
    changed.push(kernel.kernelName);
  }
  return changed;
}

/** True when every lico wasm training kernel is the registered one. */
export function wasmTrainingKernelsRegistered(): boolean {
  return WASM_TRAINING_KERNELS.every((k) => tf.getKernel(k.kernelName, 'wasm')?.kernelFunc === k.kernelFunc);
}
