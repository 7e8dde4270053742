/**
 * Kernels that lico's packages share by name (the spec between a model and a backend plugin): a
 * model calls one through `tf.engine().runKernel` when the active backend registered it, and runs
 * stock ops otherwise. `@lico/backends` registers them for wasm.
 */

/**
 * Training-mode batch norm of an NHWC float32 tensor followed by LeakyReLU with slope `alpha`
 * (0: ReLU, 1: no activation), over the batch and spatial axes. Inputs `{ x, gamma, beta }`;
 * attrs {@link BatchNormActAttrs}; outputs `[y, mean, variance]` (variance biased: divided by
 * N·H·W).
 */
export const BATCH_NORM_ACT = 'LicoBatchNormAct';

/**
 * The gradient of {@link BATCH_NORM_ACT}. Inputs `{ dy, x, y, gamma, mean, variance }` (the
 * forward's input and outputs); attrs {@link BatchNormActAttrs}; outputs `[dx, dGamma, dBeta]`.
 */
export const BATCH_NORM_ACT_GRAD = 'LicoBatchNormActGrad';

/** Attributes of {@link BATCH_NORM_ACT} and {@link BATCH_NORM_ACT_GRAD}. */
export interface BatchNormActAttrs {
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** The slope of the activation for negative inputs: 0 = ReLU, 1 = none, else LeakyReLU. */
  readonly alpha: number;
}

/**
 * A fixed per-channel affine map followed by LeakyReLU with slope `alpha` (0: ReLU, 1: none),
 * `y = act(x·scale + shift)` over the last axis: inference-mode batch norm with its running
 * statistics folded in. Inputs `{ x, scale, shift }` (float32; `scale`, `shift` of the last axis'
 * length); attrs {@link AffineActAttrs}; output `y` (x's shape). Its gradient is
 * {@link affineActGradConfig}.
 */
export const AFFINE_ACT = 'LicoAffineAct';

/**
 * The input gradient of {@link AFFINE_ACT}: inputs `{ dy, y, scale }` (y: the forward's output);
 * attrs {@link AffineActAttrs}; output `dx = (y > 0 ? dy : alpha·dy)·scale`.
 */
export const AFFINE_ACT_GRAD = 'LicoAffineActGrad';

/** Attributes of {@link AFFINE_ACT} and {@link AFFINE_ACT_GRAD}. */
export interface AffineActAttrs {
  /** The slope of the activation for negative inputs: 0 = ReLU, 1 = none, else LeakyReLU (>= 0). */
  readonly alpha: number;
}

/**
 * Inference-mode batch norm's running statistics folded into the per-channel map that
 * {@link AFFINE_ACT} applies: `scale = γ·(1/√(σ² + ε))`, `shift = β − μ·scale`, each step rounded to
 * float32 in this order (PyTorch's CPU kernel's). Inputs `{ gamma, beta, mean, variance }`
 * (float32, one shape); attrs {@link BatchNormFoldAttrs}; outputs `[scale, shift]`. One kernel
 * instead of six small ops per layer (and their saved copies under a tape); its gradient is
 * {@link batchNormFoldGradConfig}.
 */
export const BATCH_NORM_FOLD = 'LicoBatchNormFold';

/** Attributes of {@link BATCH_NORM_FOLD}. */
export interface BatchNormFoldAttrs {
  /** Added to the variance before the square root (> 0). */
  readonly epsilon: number;
}

/**
 * A 2-D convolution (NHWC, dilation 1) with its following per-channel affine map and activation in
 * one kernel: `y = act((conv(x, filter) + bias)·scale + shift + residual)`, LeakyReLU with slope
 * `alpha` (0: ReLU, 1: none): an inference-mode conv → batch norm (`scale`, `shift` from
 * {@link BATCH_NORM_FOLD}) → (residual add →) activation without the full-size passes in between.
 * Inputs `{ x, filter, bias, scale, shift, residual? }` (float32; `bias`, `scale`, `shift`
 * `[outChannels]`, `residual` the output's shape); attrs {@link ConvEpilogueAttrs}; output `y`.
 * Its gradient is {@link convAffineActGradConfig}.
 */
export const CONV_AFFINE_ACT = 'LicoConvAffineAct';

/**
 * A 2-D convolution (NHWC, dilation 1) with a residual add and activation in one kernel:
 * `y = act(conv(x, filter) + bias + residual)` (a residual block's last conv), LeakyReLU with slope
 * `alpha` (0: ReLU, 1: none). Inputs `{ x, filter, bias, residual }` (float32; `bias`
 * `[outChannels]`, `residual` the output's shape); attrs {@link ConvEpilogueAttrs}; output `y`.
 * Its gradient is {@link convAddActGradConfig}.
 */
export const CONV_ADD_ACT = 'LicoConvAddAct';

/** Attributes of {@link CONV_AFFINE_ACT} and {@link CONV_ADD_ACT}. */
export interface ConvEpilogueAttrs {
  /** The convolution's strides (one number: both axes). */
  readonly strides: number | readonly [number, number];
  /** Zero padding: a number (every side, PyTorch's `padding`), `'same'` or `'valid'`. */
  readonly pad: number | 'same' | 'valid';
  /** The slope of the activation for negative inputs: 0 = ReLU, 1 = none, else LeakyReLU (>= 0). */
  readonly alpha: number;
}
