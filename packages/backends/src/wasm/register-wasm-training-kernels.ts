import * as tf from '@tensorflow/tfjs-core';
import { addWasm, keepStockAdd } from './add';
import { AFFINE_ACT, AFFINE_ACT_GRAD, affineActGradWasm, affineActWasm } from './affine-act';
import { batchMatMulWasm, keepStockBatchMatMul } from './batch-mat-mul';
import { BATCH_NORM_FOLD, batchNormFoldWasm } from './batch-norm-fold';
import { BATCH_NORM_ACT, BATCH_NORM_ACT_GRAD, batchNormActGradWasm, batchNormActWasm } from './batch-norm-act';
import { conv2dBackpropFilterWasm } from './conv2d-backprop-filter';
import { conv2dBackpropInputWasm } from './conv2d-backprop-input';
import { CONV_ADD_ACT, CONV_AFFINE_ACT, convAddActWasm, convAffineActWasm } from './conv-epilogue';
import { conv2dWasm, fusedConv2dWasm, keepStockConv2D, keepStockFusedConv2D } from './conv2d-forward';
import { identityWasm, keepStockIdentity } from './identity';
import { keepStockLeakyRelu, LEAKY_RELU_GRAD, leakyReluGradConfig, leakyReluGradWasm, leakyReluWasm } from './leaky-relu';
import { maxPoolGradWasm } from './max-pool-grad';
import { keepStockSlice, sliceWasm } from './slice';
import { gatherV2Wasm, keepStockGatherV2 } from './gather';
import { keepStockMean, keepStockSum, meanWasm, sumWasm } from './sum-mean';
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
  /** Receives the stock kernel it replaces (for the cases it hands back to it). */
  readonly keepStock?: (stock: tf.KernelFunc) => void;
}

/** The kernels {@link registerWasmTrainingKernels} registers for the `'wasm'` backend. */
export const WASM_TRAINING_KERNELS: readonly WasmTrainingKernel[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    kind: 'added',
    how: "lico's WebAssembly SIMD kernel (csrc/conv-grad.c) on the backend's memory, in place: 4×8 register tiles per filter tap over cache-sized blocks of rows, tiles split over the backend's threads (Node workers); where that module cannot run, XNNPACK matMuls per tap",
    kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'Conv2DBackpropInput',
    kind: 'replaced',
    how: "lico's WebAssembly SIMD kernel (csrc/conv-grad.c) on the backend's memory, in place: 4 input pixels of one stride phase × 8 channels in registers over every tap and output channel, rows split over the backend's threads; where that module cannot run, a forward conv (XNNPACK) of the flipped filter (stride 1) or matMul + col2im",
    kernelFunc: conv2dBackpropInputWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'Conv2D',
    kind: 'replaced',
    how: "lico's WebAssembly SIMD kernel (csrc/conv-grad.c) in place: 4 output pixels × 8 output channels in registers over every tap and input channel, rows split over the backend's threads (~20 % faster than XNNPACK here); non-float32, NCHW, dilations: stock",
    kernelFunc: conv2dWasm as unknown as tf.KernelFunc,
    keepStock: keepStockConv2D,
  },
  {
    kernelName: 'FusedConv2D',
    kind: 'replaced',
    how: 'as Conv2D, with an optional per-channel bias and a linear, relu or leakyrelu activation applied as each output is stored; other activations, prelu: stock',
    kernelFunc: fusedConv2dWasm as unknown as tf.KernelFunc,
    keepStock: keepStockFusedConv2D,
  },
  {
    kernelName: 'BatchMatMul',
    kind: 'replaced',
    how: "lico's WebAssembly SIMD kernel (csrc/conv-grad.c) in place: b packed into column groups (a transposed if asked), 4×8 register tiles over the whole inner dimension, rows of all batches split over the backend's threads (the stock kernel is 25–90× slower with a transposed operand and ~1.4 GMAC/s for batches); partial batch broadcasts, non-float32: stock",
    kernelFunc: batchMatMulWasm as unknown as tf.KernelFunc,
    keepStock: keepStockBatchMatMul,
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
  {
    kernelName: 'Slice',
    kind: 'replaced',
    how: 'heap-to-heap copies in the longest contiguous runs (the stock kernel first copies the whole input out of the heap)',
    kernelFunc: sliceWasm as unknown as tf.KernelFunc,
    keepStock: keepStockSlice,
  },
  {
    kernelName: 'GatherV2',
    kind: 'replaced',
    how: 'heap-to-heap copies of whole slices along the axis, per batch (float32, int32), indices checked as the stock kernel checks them (which takes ~38 ns per element, and with batch dimensions returns wrong values); others: stock',
    kernelFunc: gatherV2Wasm as unknown as tf.KernelFunc,
    keepStock: keepStockGatherV2,
  },
  {
    kernelName: 'Sum',
    kind: 'replaced',
    how: 'sums of NHWC tensors over H, W or N, H, W through XNNPACK average pooling (H·W ≥ 16; float32 accumulation per image); other leading or middle axes as one JavaScript pass with float64 accumulators (the stock kernel transposes the whole input first); other cases: stock',
    kernelFunc: sumWasm,
    keepStock: keepStockSum,
  },
  {
    kernelName: 'Mean',
    kind: 'replaced',
    how: 'as Sum, divided by the count',
    kernelFunc: meanWasm,
    keepStock: keepStockMean,
  },
  {
    kernelName: 'LeakyRelu',
    kind: 'replaced',
    how: "XNNPACK's PReLU with every slope alpha (the stock kernel takes ~6 ns per element); non-float32: stock",
    kernelFunc: leakyReluWasm as unknown as tf.KernelFunc,
    keepStock: keepStockLeakyRelu,
  },
  {
    kernelName: LEAKY_RELU_GRAD,
    kind: 'added',
    how: "dy·step(x, alpha) in two SIMD passes (lico's LeakyRelu gradient uses it where registered, instead of Greater + Multiply + Select)",
    kernelFunc: leakyReluGradWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_ACT,
    kind: 'added',
    how: "training-mode batch norm and the LeakyReLU/ReLU after it in two SIMD passes of lico's module (per-channel float64 sums, then y = act(x·scale + shift)), threaded; @lico/backbones uses it where registered instead of about ten stock ops",
    kernelFunc: batchNormActWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_ACT_GRAD,
    kind: 'added',
    how: "its gradient in two SIMD passes (per-channel Σdz and Σdz·x in float64, then dx = dz·a + x·b + k), threaded",
    kernelFunc: batchNormActGradWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'Add',
    kind: 'replaced',
    how: "a per-channel broadcast (a bias: rank >= 2 plus a vector of the last axis) as lico's one SIMD pass x·1 + bias, threaded, exactly the sum (the stock kernel's broadcasting loop takes ~4–5 ns per element); others: stock",
    kernelFunc: addWasm as unknown as tf.KernelFunc,
    keepStock: keepStockAdd,
  },
  {
    kernelName: AFFINE_ACT,
    kind: 'added',
    how: "inference-mode batch norm (a fixed per-channel affine map) and the LeakyReLU/ReLU after it in one SIMD pass, threaded; @lico/backbones uses it where registered (with @lico/core's gradient, which computes only the inputs' gradients the tape asks for)",
    kernelFunc: affineActWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: AFFINE_ACT_GRAD,
    kind: 'added',
    how: 'its input gradient dx = (y > 0 ? dy : alpha·dy)·scale in one SIMD pass, threaded',
    kernelFunc: affineActGradWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: CONV_AFFINE_ACT,
    kind: 'added',
    how: "a conv with the inference batch norm, residual add and LeakyReLU/ReLU after it applied as each output is stored (lico's SIMD forward conv, threaded; the bits of the three kernels run one after another); @lico/backbones uses it where registered (with @lico/core's gradient, which computes only the inputs' gradients the tape asks for)",
    kernelFunc: convAffineActWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: CONV_ADD_ACT,
    kind: 'added',
    how: "a residual block's last conv with the residual add (and activation) applied as each output is stored (lico's SIMD forward conv, threaded; the bits of the conv and the add run one after another); @lico/backbones uses it where registered",
    kernelFunc: convAddActWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: BATCH_NORM_FOLD,
    kind: 'added',
    how: "inference batch norm's running statistics folded into scale and shift in one JavaScript pass (the same float32 bits as the six stock ops it replaces)",
    kernelFunc: batchNormFoldWasm as unknown as tf.KernelFunc,
  },
  {
    kernelName: 'Identity',
    kind: 'replaced',
    how: 'shares the data (one more reference) instead of copying it, as the cpu backend does (tfjs clones every tensor a gradient saves)',
    kernelFunc: identityWasm as unknown as tf.KernelFunc,
    keepStock: keepStockIdentity,
  },
];

/**
 * Registers lico's training kernels for the `'wasm'` backend (idempotent): it adds the kernels the
 * stock backend lacks (`Conv2DBackpropFilter`, `UnsortedSegmentSum`, `LicoLeakyReluGrad`, `LicoBatchNormAct`,
 * `LicoBatchNormActGrad`, `LicoAffineAct`, `LicoAffineActGrad`, `LicoConvAffineAct`, `LicoConvAddAct`, `LicoBatchNormFold`) and
 * replaces wrong or slow ones (`Conv2D`, `FusedConv2D`, `BatchMatMul`, `MaxPoolGrad`, `Conv2DBackpropInput`, `Slice`, `GatherV2`, `Sum`, `Mean`,
 * `LeakyRelu`, `Identity`, `Add`). It also registers lico's LeakyRelu gradient for every backend (the one-pass kernel
 * where the backend has it, else tfjs-core's formula). Call it after importing
 * `@tensorflow/tfjs-backend-wasm`, before or after the backend is initialised.
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
    if (current) {
      kernel.keepStock?.(current.kernelFunc);
      tf.unregisterKernel(kernel.kernelName, 'wasm');
    }
    // A stock kernel we hand cases back to binds its wasm function in its setupFunc (run when the
    // backend initialises): keep it.
    const setupFunc = kernel.keepStock ? current?.setupFunc : undefined;
    tf.registerKernel({ kernelName: kernel.kernelName, backendName: 'wasm', kernelFunc: kernel.kernelFunc, ...(setupFunc ? { setupFunc } : {}) });
    changed.push(kernel.kernelName);
    if (kernel.kernelName === LEAKY_RELU_GRAD) tf.registerGradient(leakyReluGradConfig);
  }
  return changed;
}

/** True when every lico wasm training kernel is the registered one. */
export function wasmTrainingKernelsRegistered(): boolean {
  return WASM_TRAINING_KERNELS.every((k) => tf.getKernel(k.kernelName, 'wasm')?.kernelFunc === k.kernelFunc);
}
