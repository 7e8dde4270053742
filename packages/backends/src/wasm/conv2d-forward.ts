import * as tf from '@tensorflow/tfjs-core';
import { type ConvEpilogue, convGeometry, convGradRunnerFor } from './conv-grad-kernels';
import { stockKernel } from './kernel-utils';
import { winogradFilterCacheFor } from './winograd-filter-cache';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const stockConv2D = stockKernel('Conv2D');
const stockFusedConv2D = stockKernel('FusedConv2D');

/** Remembers the stock `Conv2D` kernel (the cases lico's kernel does not cover go to it). */
export const keepStockConv2D = stockConv2D.keep;

/** Remembers the stock `FusedConv2D` kernel. */
export const keepStockFusedConv2D = stockFusedConv2D.keep;

/**
 * The forward conv by lico's SIMD kernel (`csrc/conv-grad.c`, `conv_forward`), then `epilogue`
 * (given the output's byte offset: for a residual of the output's own shape, checked by the caller),
 * or `undefined` for what it does not cover: non-float32, NCHW, dilations, a broadcast bias.
 */
export function simdConv(args: KernelArgs, bias: tf.TensorInfo | undefined, epilogue?: (out: tf.TensorInfo) => ConvEpilogue | undefined): tf.TensorInfo | undefined {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DAttrs;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  if ((attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') || x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const dilations = attrs.dilations ?? 1;
  if ((Array.isArray(dilations) ? dilations : [dilations]).some((d) => d !== 1)) return undefined;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== filter.shape[3])) return undefined; // broadcast forms: stock
  const simd = convGradRunnerFor(args.backend);
  if (!simd) return undefined;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (info.inChannels !== filter.shape[2]) throw new Error(`Conv2D: x [${x.shape}] has ${x.shape[3]} channels, filter [${filter.shape}] expects ${filter.shape[2]}`);
  const { heap, runner } = simd;
  const g = convGeometry(info);
  const out = heap.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
  if (tf.util.sizeFromShape(out.shape) === 0) return out;
  const prepared = winogradFilterCacheFor(heap).prepared(runner, filter, g, 'forward');
  const ep = epilogue?.(out);
  heap.withScratch(runner.forwardScratch(g), (scratch) => runner.forward(heap.offset(x), heap.offset(filter), bias ? heap.offset(bias) : 0, heap.offset(out), scratch, g, ep, prepared));
  return out;
}

/**
 * `Conv2D` for wasm, replacing XNNPACK's: lico's SIMD gather kernel (4 output pixels × 8 output
 * channels in registers over every tap and input channel, rows split over the backend's threads),
 * which measured ~20 % faster here. Other cases (see `simdConv`): stock.
 */
export function conv2dWasm(args: KernelArgs): tf.TensorInfo {
  return simdConv(args, undefined) ?? (stockConv2D.call(args) as tf.TensorInfo);
}

/** `FusedConv2D` for wasm: as {@link conv2dWasm}, with an optional per-channel bias and a linear, relu or leakyrelu activation; others: stock. */
export function fusedConv2dWasm(args: KernelArgs): tf.TensorInfo {
  const { bias, preluActivationWeights } = args.inputs as { bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
  const activation = attrs.activation ?? 'linear';
  const alpha = attrs.leakyreluAlpha ?? 0.2; // tfjs's default slope
  const epilogue: ConvEpilogue | undefined = activation === 'relu' ? { activation: 'relu' } : activation === 'leakyrelu' ? { activation: 'leaky', alpha } : undefined;
  const covered = !preluActivationWeights && (activation === 'linear' || activation === 'relu' || (activation === 'leakyrelu' && Number.isFinite(alpha)));
  const out = covered ? simdConv(args, bias, () => epilogue) : undefined;
  return out ?? (stockFusedConv2D.call(args) as tf.TensorInfo);
}
