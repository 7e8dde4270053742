import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_FOLD, CONV_ADD_ACT, CONV_AFFINE_ACT, createRng, type BiasTap, type NamedVariables, type Rng } from '@lico/core';
import { batchNormActInference, batchNormActTraining } from './batch-norm';

/** How a variable is laid out relative to its PyTorch twin (for import). */
export type TorchLayout = 'conv' | 'linear' | 'plain';

/** One registered variable. */
export interface ParamEntry {
  readonly variable: tf.Variable;
  readonly trainable: boolean;
  readonly layout: TorchLayout;
}

/** A 2-D convolution with an optional bias (weights HWIO, PyTorch padding semantics). */
export interface Conv {
  /** The layer's name, the prefix of its variables. */
  readonly name: string;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: number;
  readonly pad: number;
}

/** A batch-norm layer with its moving statistics. */
export interface BatchNorm {
  /** The layer's name, the prefix of its variables. */
  readonly name: string;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVar: tf.Variable;
  readonly epsilon: number;
  /** PyTorch momentum: `running = (1 - momentum)·running + momentum·batch`. */
  readonly momentum: number;
}

/** A fully connected layer (weight `[in,out]`). */
export interface Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
}

/**
 * Owns a model's variables under stable PyTorch-like names (`layer1.0.conv1.weight`) and creates
 * them with seeded initialisers.
 */
export class ParamStore {
  readonly entries = new Map<string, ParamEntry>();
  /** The convolutions and batch norms this store created (the layers {@link withBiasTap} taps). */
  readonly layers = new Set<Conv | BatchNorm>();
  readonly rng: Rng;

  /** With `initialize` false, weights start at zero (faster when they will be loaded anyway). */
  constructor(
    seed: number,
    private readonly initialize = true,
  ) {
    this.rng = createRng(seed);
  }

  add(name: string, value: tf.Tensor, trainable: boolean, layout: TorchLayout): tf.Variable {
    if (this.entries.has(name)) throw new Error(`internal: duplicate variable name '${name}'`);
    const variable = tf.variable(value, trainable);
    value.dispose();
    this.entries.set(name, { variable, trainable, layout });
    return variable;
  }

  /** Seeded normal tensor. */
  normal(shape: number[], std: number): tf.Tensor {
    const seed = this.rng.seed32();
    return this.initialize ? tf.randomNormal(shape, 0, std, 'float32', seed) : tf.zeros(shape);
  }

  /** Seeded uniform tensor in `[-bound, bound)`. */
  uniform(shape: number[], bound: number): tf.Tensor {
    const seed = this.rng.seed32();
    return this.initialize ? tf.randomUniform(shape, -bound, bound, 'float32', seed) : tf.zeros(shape);
  }

  /**
   * A k×k convolution. `init: 'kaiming-fan-out'` draws N(0, 2/fan_out) (PyTorch
   * `kaiming_normal_(mode='fan_out')`), `'torch-default'` U(±1/sqrt(fan_in)) (PyTorch's default
   * `kaiming_uniform_(a=√5)`); the bias, if any, is U(±1/sqrt(fan_in)) as PyTorch's default.
   */
  conv(name: string, cin: number, cout: number, k: number, stride: number, bias: boolean, init: 'kaiming-fan-out' | 'torch-default' = 'kaiming-fan-out'): Conv {
    const fanOut = cout * k * k;
    const fanIn = cin * k * k;
    const w = init === 'kaiming-fan-out' ? this.normal([k, k, cin, cout], Math.sqrt(2 / fanOut)) : this.uniform([k, k, cin, cout], 1 / Math.sqrt(fanIn));
    const weight = this.add(`${name}.weight`, w, true, 'conv');
    const b = bias ? this.add(`${name}.bias`, this.uniform([cout], 1 / Math.sqrt(fanIn)), true, 'plain') : null;
    const conv = { name, weight, bias: b, stride, pad: (k - 1) / 2 };
    this.layers.add(conv);
    return conv;
  }

  batchNorm(name: string, channels: number, epsilon: number, momentum: number): BatchNorm {
    const bn = {
      name,
      gamma: this.add(`${name}.weight`, tf.ones([channels]), true, 'plain'),
      beta: this.add(`${name}.bias`, tf.zeros([channels]), true, 'plain'),
      movingMean: this.add(`${name}.running_mean`, tf.zeros([channels]), false, 'plain'),
      movingVar: this.add(`${name}.running_var`, tf.ones([channels]), false, 'plain'),
      epsilon,
      momentum,
    };
    this.layers.add(bn);
    return bn;
  }

  /** `init: 'xavier-normal'` (weight N(0, 2/(in+out)), bias 0) or `'torch-default'` (both U(±1/sqrt(in))). */
  linear(name: string, cin: number, cout: number, init: 'xavier-normal' | 'torch-default'): Linear {
    if (init === 'xavier-normal') {
      return {
        weight: this.add(`${name}.weight`, this.normal([cin, cout], Math.sqrt(2 / (cin + cout))), true, 'linear'),
        bias: this.add(`${name}.bias`, tf.zeros([cout]), true, 'plain'),
      };
    }
    const bound = 1 / Math.sqrt(cin);
    return {
      weight: this.add(`${name}.weight`, this.uniform([cin, cout], bound), true, 'linear'),
      bias: this.add(`${name}.bias`, this.uniform([cout], bound), true, 'plain'),
    };
  }

  named(): NamedVariables {
    const out: Record<string, tf.Variable> = {};
    for (const [name, e] of this.entries) out[name] = e.variable;
    return out;
  }

  trainable(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => e.trainable).map((e) => e.variable);
  }

  nonTrainable(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => !e.trainable).map((e) => e.variable);
  }

  countParams(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.trainable) n += e.variable.size;
    return n;
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
    this.layers.clear();
  }
}

/** The tap of the forward pass running now (see {@link withBiasTap}), with the store whose layers it taps. */
let activeTap: { readonly store: ParamStore; readonly tap: BiasTap } | null = null;

/**
 * Runs `f` (a synchronous forward pass) with `tap` applied to the output of every biased layer of
 * `store` that {@link applyConv} (convolutions with a bias) and {@link applyBatchNorm} (inference
 * mode) run meanwhile: `ImageClassifier.forwardWithBiasTaps`. Layers of other stores are not tapped.
 */
export function withBiasTap<T>(store: ParamStore, tap: BiasTap, f: () => T): T {
  const previous = activeTap;
  activeTap = { store, tap };
  try {
    return f();
  } finally {
    activeTap = previous;
  }
}

/** The active tap's hook for `layer`'s output, or undefined when no tap covers that layer. */
function tapFor(layer: Conv | BatchNorm, kind: 'conv' | 'batch-norm', bias: () => tf.Tensor1D): ((y: tf.Tensor4D) => tf.Tensor4D) | undefined {
  const active = activeTap;
  if (active === null || !active.store.layers.has(layer)) return undefined;
  return (y) => active.tap({ name: layer.name, kind, bias: bias() }, y);
}

/**
 * Applies a convolution with PyTorch's symmetric zero padding. With a bias: one fused pass. In
 * inference mode under a gradient tape (input gradients of saliency methods) that pass is the
 * `FusedConv2D` kernel itself, whose gradient (@lico/core's) computes only what the tape asks for;
 * `tf.fused.conv2d`'s backward always computes the filter gradient too, a full pass per layer.
 */
export function applyConv(x: tf.Tensor4D, c: Conv, training: boolean): tf.Tensor4D {
  const bias = c.bias;
  if (!bias) return tf.conv2d(x, c.weight as tf.Tensor4D, c.stride, c.pad);
  const y = !training && tf.engine().state.gradientDepth > 0
    ? (tf.engine().runKernel(tf.FusedConv2D, { x, filter: c.weight, bias }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: 1, activation: 'linear' } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
    : tf.fused.conv2d({ x, filter: c.weight as tf.Tensor4D, strides: c.stride, pad: c.pad, bias });
  const tap = tapFor(c, 'conv', () => tf.clone(bias) as tf.Tensor1D);
  return tap ? tap(y) : y;
}

/**
 * Applies batch norm, then LeakyReLU with `slope` when given (0: ReLU). Training: batch statistics
 * (custom backward; the backend's fused kernel where it has one, see `batchNormActTraining`) and a
 * moving-average update of the running statistics, with the unbiased variance as PyTorch does.
 * Inference: the running statistics folded into a per-channel affine map (`batchNormActInference`);
 * the output before the activation goes through the active {@link withBiasTap} tap, with the
 * effective bias `β − μ·γ/√(σ²+ε)`.
 */
export function applyBatchNorm(x: tf.Tensor4D, bn: BatchNorm, training: boolean, slope?: number): tf.Tensor4D {
  if (training) {
    return batchNormActTraining(x, bn.gamma as tf.Tensor1D, bn.beta as tf.Tensor1D, bn.epsilon, slope, (s) => updateMovingStats(bn, s.mean, s.variance, s.count));
  }
  return tf.tidy(() => {
    const { scale, shift } = foldBatchNorm(bn);
    return batchNormActInference(x, scale, shift, slope, tapFor(bn, 'batch-norm', () => batchNormEffectiveBias(bn)));
  });
}

/** Whether the backend registered `kernel` (a fused conv epilogue of @lico/core) and no bias tap watches these layers now. */
function convEpilogueApplies(kernel: string, layers: readonly (Conv | BatchNorm)[]): boolean {
  if (tf.getKernel(kernel, tf.getBackend()) === undefined) return false;
  const active = activeTap;
  return active === null || !layers.some((l) => active.store.layers.has(l));
}

/** `kernel` (`LicoConvAffineAct` or `LicoConvAddAct`) on `c` with its own bias (zeros without one). */
function runConvEpilogue(kernel: string, x: tf.Tensor4D, c: Conv, alpha: number, parts: Record<string, tf.Tensor>): tf.Tensor4D {
  return tf.tidy(() => {
    const bias = c.bias ?? tf.zeros([c.weight.shape[3]!]);
    return tf.engine().runKernel(kernel, { x, filter: c.weight, bias, ...parts }, { strides: c.stride, pad: c.pad, alpha } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  });
}

/**
 * `applyBatchNorm(applyConv(x, c), bn, training, slope)`; with `residual`, the activation comes after
 * adding it: `act(bn(conv(x)) + residual())` (a post-activation residual block's last conv;
 * `residual` is called after this layer's conv and batch norm where they run apart, so that layers
 * run, and bias taps see them, in the reference's order). In inference mode, where the backend
 * registered `LicoConvAffineAct` (@lico/backends does for wasm) and no bias tap watches these
 * layers, the batch norm's folded map, the add and the activation are applied by the conv as it
 * stores each output: one kernel instead of two or three full-size passes, the same values (tested).
 */
export function applyConvBatchNorm(x: tf.Tensor4D, c: Conv, bn: BatchNorm, training: boolean, slope?: number, residual?: () => tf.Tensor4D): tf.Tensor4D {
  if (!training && x.dtype === 'float32' && convEpilogueApplies(CONV_AFFINE_ACT, [c, bn])) {
    const r = residual?.();
    if (!r || r.dtype === 'float32') return tf.tidy(() => runConvEpilogue(CONV_AFFINE_ACT, x, c, slope ?? 1, { ...foldBatchNorm(bn), ...(r ? { residual: r } : {}) }));
    return activate(tf.add(applyBatchNorm(applyConv(x, c, training), bn, training), r) as tf.Tensor4D, slope);
  }
  if (!residual) return applyBatchNorm(applyConv(x, c, training), bn, training, slope);
  const y = applyBatchNorm(applyConv(x, c, training), bn, training);
  return activate(tf.add(y, residual()) as tf.Tensor4D, slope);
}

/** LeakyReLU with `slope` (0: ReLU; undefined: none). */
function activate(z: tf.Tensor4D, slope: number | undefined): tf.Tensor4D {
  return slope === undefined ? z : slope === 0 ? tf.relu(z) : tf.leakyRelu(z, slope);
}

/**
 * `residual() + applyConv(x, c)` (a residual block's last conv; `residual` is called after the conv
 * where the two run apart, so that layers run, and bias taps see them, in the reference's order).
 * In inference mode, where the backend registered `LicoConvAddAct` and no bias tap watches `c`, the
 * add is done by the conv as it stores each output (one full-size pass fewer, the same bits; tested).
 */
export function applyConvResidual(x: tf.Tensor4D, c: Conv, residual: () => tf.Tensor4D, training: boolean): tf.Tensor4D {
  if (!training && x.dtype === 'float32' && convEpilogueApplies(CONV_ADD_ACT, [c])) {
    const r = residual();
    if (r.dtype === 'float32') return runConvEpilogue(CONV_ADD_ACT, x, c, 1, { residual: r });
    return tf.add(r, applyConv(x, c, training)) as tf.Tensor4D;
  }
  const y = applyConv(x, c, training);
  return tf.add(residual(), y) as tf.Tensor4D;
}

/**
 * A batch norm's running statistics folded into `x·scale + shift`, as PyTorch's CPU kernel folds
 * them, in this order: `scale = γ·(1/√(σ²+ε))`, `shift = β − μ·scale`. One `LicoBatchNormFold`
 * kernel where the backend registered it (`@lico/backends` does for wasm; the same bits), else
 * those six stock ops.
 */
function foldBatchNorm(bn: BatchNorm): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  if (tf.getKernel(BATCH_NORM_FOLD, tf.getBackend()) && bn.gamma.dtype === 'float32') {
    const [scale, shift] = tf.engine().runKernel(BATCH_NORM_FOLD, { gamma: bn.gamma, beta: bn.beta, mean: bn.movingMean, variance: bn.movingVar }, { epsilon: bn.epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor1D[];
    return { scale: scale!, shift: shift! };
  }
  const scale = tf.mul(bn.gamma, tf.reciprocal(tf.sqrt(tf.add(bn.movingVar, bn.epsilon)))) as tf.Tensor1D;
  return { scale, shift: tf.sub(bn.beta, tf.mul(bn.movingMean, scale)) as tf.Tensor1D };
}

/**
 * The bias a batch norm adds in inference mode, `β − μ·γ/√(σ²+ε)` (its output is
 * `x·γ/√(σ²+ε) + that`), in PyTorch's order of operations (pytorch-grad-cam / the FullGrad paper's
 * `-(running_mean·weight/sqrt(running_var+eps)) + bias`).
 */
export function batchNormEffectiveBias(bn: BatchNorm): tf.Tensor1D {
  return tf.tidy(() => tf.sub(bn.beta, tf.div(tf.mul(bn.movingMean, bn.gamma), tf.sqrt(tf.add(bn.movingVar, bn.epsilon)))) as tf.Tensor1D);
}

/** Updates only the running statistics of `bn` from `x` (PyTorch does this for a BN whose output goes unused). */
export function updateBatchNormStats(x: tf.Tensor4D, bn: BatchNorm): void {
  tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    updateMovingStats(bn, mean as tf.Tensor1D, variance as tf.Tensor1D, x.shape[0] * x.shape[1] * x.shape[2]);
  });
}

function updateMovingStats(bn: BatchNorm, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void {
  tf.tidy(() => {
    const m = bn.momentum;
    const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
    bn.movingMean.assign(tf.add(tf.mul(bn.movingMean, 1 - m), tf.mul(mean, m)));
    bn.movingVar.assign(tf.add(tf.mul(bn.movingVar, 1 - m), tf.mul(unbiased, m)));
  });
}

/** Applies a fully connected layer to `[N,in]`. */
export function applyLinear(x: tf.Tensor2D, l: Linear): tf.Tensor2D {
  return tf.add(tf.matMul(x, l.weight as tf.Tensor2D), l.bias) as tf.Tensor2D;
}
