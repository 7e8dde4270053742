import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type BiasLayer, type BiasTap, type ImageClassifier, type InterpreterOptions } from '@lico/core';
import { checkImages, minMaxNormalize, NORMALIZE_EPSILON, resizeMaps, resolveTargets, targetScores, type TargetScore } from '../common';
import { checkInputAttributionOptions } from './input-attribution';

/** Options of {@link fullGrad}. `layer` is ignored: FullGrad uses every biased layer. */
export interface FullGradOptions extends InterpreterOptions {
  /** Score whose gradients are taken (default `'logit'`, as pytorch-grad-cam's `ClassifierOutputTarget`). */
  readonly score?: TargetScore;
  /** Min–max normalise the summed map per image, `(x−min)/(max−min+1e-7)` (default true); `false` returns the raw sum. */
  readonly normalize?: boolean;
}

/** The gradient of the target score at one biased layer's output, with that layer's bias. */
export interface BiasGradient {
  /** The layer's name (the prefix of its variables, e.g. `'layer1.0.bn1'`). */
  readonly name: string;
  readonly kind: BiasLayer['kind'];
  /** The bias the layer adds `[c]` (batch norm: `β − μ·γ/√(σ²+ε)`). */
  readonly bias: tf.Tensor1D;
  /** `∂y/∂z` at the layer's output `z` `[N,h,w,c]` (zeros where the output does not reach the score). */
  readonly gradient: tf.Tensor4D;
}

/** What {@link fullGradients} returns; the caller owns (and disposes) every tensor. */
export interface FullGradients {
  /** `∂y/∂x` at the input `[N,H,W,C]`. */
  readonly inputGradient: tf.Tensor4D;
  /** One entry per biased layer, in the order the forward pass ran them. */
  readonly layers: readonly BiasGradient[];
}

/** Whether `model` has the optional `forwardWithBiasTaps` capability FullGrad needs. */
export function supportsBiasTaps(model: ImageClassifier): model is ImageClassifier & Required<Pick<ImageClassifier, 'forwardWithBiasTaps'>> {
  return typeof model.forwardWithBiasTaps === 'function';
}

function requireBiasTaps(model: ImageClassifier): asserts model is ImageClassifier & Required<Pick<ImageClassifier, 'forwardWithBiasTaps'>> {
  if (supportsBiasTaps(model)) return;
  throw new ConfigError(
    `fullGrad needs the gradient at every biased layer, which model '${model.name}' does not expose: it lacks the optional ImageClassifier method ` +
      'forwardWithBiasTaps(images, tap) (spec v1). The @lico/backbones classifiers (ResNet, WideResNet, PreAct ResNet) have it; a wrapped tf.LayersModel ' +
      '(wrapLayersModel) does not. Use an input-gradient method instead (gradient, integratedGradients, smoothGrad) or a CAM on one of layerNames.',
  );
}

/**
 * An identity whose backward pass hands the incoming gradient to `record` (PyTorch's
 * `tensor.register_hook`).
 */
function recordGradient(x: tf.Tensor4D, record: (dy: tf.Tensor4D) => void): tf.Tensor4D {
  const op = tf.customGrad(((input: tf.Tensor) => ({
    value: tf.clone(input),
    gradFunc: (dy: tf.Tensor) => {
      record(dy as tf.Tensor4D);
      return tf.clone(dy);
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

/**
 * The full-gradient decomposition (Srinivas & Fleuret 2019) of the target scores of `images`:
 * `∂y/∂x` at the input and, for every layer with a bias (through the model's optional
 * `forwardWithBiasTaps`), `∂y/∂z` at its output and its bias. One forward and one backward pass for
 * the batch, inference mode (images do not interact, so the gradient of the summed scores is each
 * image's own). For a network of ReLUs, max pools and affine layers it is complete:
 * `y = Σ x ⊙ ∂y/∂x + Σ_layers Σ b ⊙ ∂y/∂z` plus the biases of the layers not tapped (the head's).
 * Throws a `ConfigError` when the model lacks `forwardWithBiasTaps`.
 */
export function fullGradients(model: ImageClassifier, images: tf.Tensor4D, targets: readonly number[], score: TargetScore = 'logit'): FullGradients {
  requireBiasTaps(model);
  const entries: { name: string; kind: BiasLayer['kind']; bias: tf.Tensor1D; shape: [number, number, number, number]; gradient: tf.Tensor4D | null }[] = [];
  const tap: BiasTap = (layer, output) => {
    const entry = { name: layer.name, kind: layer.kind, bias: tf.keep(tf.clone(layer.bias)), shape: output.shape, gradient: null as tf.Tensor4D | null };
    entries.push(entry);
    return recordGradient(output, (dy) => {
      entry.gradient?.dispose();
      entry.gradient = tf.keep(tf.clone(dy));
    });
  };
  try {
    const inputGradient = tf.tidy(() => {
      const f = (x: tf.Tensor): tf.Scalar => tf.sum(targetScores(model.forwardWithBiasTaps(x as tf.Tensor4D, tap).logits, targets, score));
      return tf.grad(f)(images) as tf.Tensor4D;
    });
    return {
      inputGradient,
      layers: entries.map((e) => ({ name: e.name, kind: e.kind, bias: e.bias, gradient: e.gradient ?? (tf.zeros(e.shape) as tf.Tensor4D) })),
    };
  } catch (error) {
    for (const e of entries) tf.dispose([e.bias, ...(e.gradient ? [e.gradient] : [])]);
    throw error;
  }
}

/**
 * Min–max normalises `[N,h,w,c]` per image and channel over space, `(v−min)/(max−min+1e-7)`
 * (pytorch-grad-cam's `scale_accross_batch_and_channels` before its resize).
 */
function normalizePerChannel(values: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const shifted = tf.sub(values, tf.min(values, [1, 2], true));
    return tf.div(shifted, tf.add(tf.max(shifted, [1, 2], true), NORMALIZE_EPSILON)) as tf.Tensor4D;
  });
}

/**
 * FullGrad (Srinivas & Fleuret 2019), as pytorch-grad-cam's `FullGrad` computes it: the input term
 * `|∂y/∂x ⊙ x|` and, for every layer with a bias (each convolution with a bias and each batch norm,
 * whose bias is `β − μ·γ/√(σ²+ε)`), the bias term `|∂y/∂z ⊙ b|` at its output `z`. Every term is
 * min–max normalised per image **and channel** (`(v−min)/(max−min+1e-7)`), brought to the input
 * size (bilinear, half-pixel: `cv2.resize`) and summed over channels; the terms are summed and the
 * total min–max normalised per image (`normalize: false`: the raw sum). One forward and one backward
 * pass for the batch. `layer` is ignored (pytorch-grad-cam ignores `target_layers` too). Needs the
 * model's optional `forwardWithBiasTaps` (the `@lico/backbones` classifiers have it); without it,
 * a `ConfigError` says so.
 */
export async function fullGrad(model: ImageClassifier, images: tf.Tensor4D, options: FullGradOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkInputAttributionOptions(options);
  requireBiasTaps(model);
  const targets = await resolveTargets(model, images, options.targets);
  const [, height, width] = images.shape;
  const grads = fullGradients(model, images, targets, options.score);
  try {
    return tf.tidy(() => {
      // The input term: every channel normalised on its own, then summed.
      let total = tf.sum(normalizePerChannel(tf.abs(tf.mul(grads.inputGradient, images)) as tf.Tensor4D), 3) as tf.Tensor3D;
      for (const layer of grads.layers) {
        // Bilinear resizing is linear, so summing the normalised channels before resizing equals
        // pytorch-grad-cam's resize of each channel, then sum (up to float rounding).
        const perLayer = tf.sum(normalizePerChannel(tf.abs(tf.mul(layer.gradient, layer.bias)) as tf.Tensor4D), 3) as tf.Tensor3D;
        total = tf.add(total, resizeMaps(perLayer, [height, width], 'bilinear')) as tf.Tensor3D;
      }
      return options.normalize === false ? total : minMaxNormalize(total);
    });
  } finally {
    tf.dispose([grads.inputGradient, ...grads.layers.flatMap((l) => [l.bias, l.gradient])]);
  }
}
