import * as tf from '@tensorflow/tfjs-core';
import { CONV_ADD_ACT, CONV_AFFINE_ACT, type ConvEpilogueAttrs } from '@lico/core';
import type { ConvEpilogue } from './conv-grad-kernels';
import { simdConv } from './conv2d-forward';
import { heapMemory } from './heap-view';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export { CONV_ADD_ACT, CONV_AFFINE_ACT };

const describe = (t: tf.TensorInfo | undefined) => (t ? `${t.dtype} [${t.shape}]` : 'missing');

/**
 * Lico's SIMD forward conv of `x` with `filter` and `bias` (direct or Winograd, threaded), with an
 * epilogue applied to each output as it is stored: the per-channel map `scale`/`shift` (if given),
 * the `residual` (if given), then the activation of slope `alpha`. Checks every input, naming the
 * shapes.
 */
function convEpilogue(kernel: string, args: KernelArgs, parts: { scale?: tf.TensorInfo; shift?: tf.TensorInfo; residual?: tf.TensorInfo }): tf.TensorInfo {
  const { x, filter, bias } = args.inputs as Record<'x' | 'filter' | 'bias', tf.TensorInfo | undefined>;
  const { strides, pad, alpha } = args.attrs as unknown as ConvEpilogueAttrs;
  if (!x || x.dtype !== 'float32' || x.shape.length !== 4) throw new Error(`${kernel}: x must be a float32 NHWC tensor, got ${describe(x)}`);
  if (!filter || filter.dtype !== 'float32' || filter.shape.length !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new Error(`${kernel}: filter must be float32 [kh, kw, ${x.shape[3]}, co] for x [${x.shape}], got ${describe(filter)}`);
  }
  const co = filter.shape[3]!;
  const perChannel = { bias, ...(parts.scale || parts.shift ? { scale: parts.scale, shift: parts.shift } : {}) };
  for (const [name, t] of Object.entries(perChannel)) {
    if (!t || t.dtype !== 'float32' || t.shape.length !== 1 || t.shape[0] !== co) throw new Error(`${kernel}: ${name} must be float32 [${co}] (the filter's output channels), got ${describe(t)}`);
  }
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new Error(`${kernel}: alpha must be a finite number >= 0, got ${alpha}`);
  const heap = heapMemory(args.backend);
  const conv = { ...args, attrs: { strides, pad, dataFormat: 'NHWC', dilations: 1 } as unknown as tf.NamedAttrMap };
  const { scale, shift, residual } = parts;
  const out = heap
    ? simdConv(conv, bias, (y): ConvEpilogue => {
        if (residual && (residual.dtype !== 'float32' || !tf.util.arraysEqual(residual.shape, y.shape))) {
          heap.release(y);
          throw new Error(`${kernel}: residual must be float32 [${y.shape}] (the output's shape), got ${describe(residual)}`);
        }
        return {
          ...(scale && shift ? { scalePtr: heap.offset(scale), shiftPtr: heap.offset(shift) } : {}),
          ...(residual ? { residualPtr: heap.offset(residual) } : {}),
          activation: alpha === 1 ? 'none' : alpha === 0 ? 'relu' : 'leaky',
          alpha,
        };
      })
    : undefined;
  if (!out) throw new Error(`${kernel}: lico's wasm module could not be instantiated on this backend's memory`);
  return out;
}

/**
 * `LicoConvAffineAct` for wasm: `y = act((conv(x, filter) + bias)·scale + shift + residual)` as
 * lico's SIMD forward conv with the map, the add and the activation applied as each output is
 * stored: the bits of `FusedConv2D`, `LicoAffineAct` (and `Add`) run one after another, without
 * their full-size passes.
 */
export function convAffineActWasm(args: KernelArgs): tf.TensorInfo {
  const { scale, shift, residual } = args.inputs as Record<'scale' | 'shift' | 'residual', tf.TensorInfo | undefined>;
  if (!scale || !shift) throw new Error(`${CONV_AFFINE_ACT}: scale and shift are required, got scale ${describe(scale)}, shift ${describe(shift)}`);
  return convEpilogue(CONV_AFFINE_ACT, args, { scale, shift, ...(residual ? { residual } : {}) });
}

/**
 * `LicoConvAddAct` for wasm: `y = act(conv(x, filter) + bias + residual)` as lico's SIMD forward
 * conv with the add and the activation applied as each output is stored: the bits of `FusedConv2D`
 * and `Add` (and the activation) run one after another, without the add's full-size pass.
 */
export function convAddActWasm(args: KernelArgs): tf.TensorInfo {
  const { residual } = args.inputs as Record<'residual', tf.TensorInfo | undefined>;
  if (!residual) throw new Error(`${CONV_ADD_ACT}: residual is required`);
  return convEpilogue(CONV_ADD_ACT, args, { residual });
}
