import * as tf from '@tensorflow/tfjs-core';
import {
  assertFinite,
  assertRank,
  ConfigError,
  formatShape,
  ShapeError,
  UnknownNameError,
  type ImageClassifier,
  type InterpreterOptions,
} from '@lico/core';

/**
 * How a map at layer resolution is brought to input resolution.
 * - `'bilinear'`: bilinear with half-pixel centres (`tf.image.resizeBilinear(x, size, false, true)`),
 *   the convention of `cv2.resize(INTER_LINEAR)` in pytorch-grad-cam and of PyTorch's
 *   `interpolate(mode='bilinear', align_corners=False)`.
 * - `'bilinear-align-corners'`: corners aligned (PyTorch `UpsamplingBilinear2d`).
 * - `'none'`: return the map at layer resolution `[N,h,w]`.
 */
export type Upsampling = 'bilinear' | 'bilinear-align-corners' | 'none';

/** What class score the gradient-based interpreters differentiate. */
export type TargetScore = 'logit' | 'probability';

/** Options every CAM-style interpreter of this package takes. */
export interface CamOptions extends InterpreterOptions {
  /** Clamp the map at 0 before normalising (default true). */
  readonly relu?: boolean;
  /** Per-image min–max normalisation to [0,1] after upsampling, `(L−min)/(max−min+1e-7)` (default true). */
  readonly normalize?: boolean;
  /** Upsampling convention (default `'bilinear'`, half-pixel centres). */
  readonly upsample?: Upsampling;
  /** Score whose gradient is taken (default `'logit'`, as pytorch-grad-cam's `ClassifierOutputTarget`). */
  readonly score?: TargetScore;
}

/** The epsilon of the per-image min–max normalisation (pytorch-grad-cam's `scale_cam_image`). */
export const NORMALIZE_EPSILON = 1e-7;

const UPSAMPLINGS: readonly Upsampling[] = ['bilinear', 'bilinear-align-corners', 'none'];

/**
 * Checks `model` is an `ImageClassifier` (the v1 interface: `forward` → logits, embedding and
 * feature map). A plain `tf.LayersModel` gets a `ConfigError` that says how to wrap it.
 */
export function checkClassifier(model: unknown): asserts model is ImageClassifier {
  const m = model as Partial<ImageClassifier> & { predict?: unknown; layers?: unknown };
  if (m && typeof m.forward === 'function' && Array.isArray(m.inputShape) && Array.isArray(m.layerNames)) return;
  if (m && typeof m.predict === 'function' && Array.isArray(m.layers)) {
    throw new ConfigError(
      "The model is a plain tf.LayersModel; lico's interpreters need an ImageClassifier (forward → logits and the feature map to explain). " +
        "Wrap it first: import { wrapLayersModel } from '@lico/backbones'; const classifier = wrapLayersModel(model, { featureLayer: '<name of the last conv layer>' }).",
    );
  }
  throw new ConfigError('The model must be an ImageClassifier (lico v1: forward(images) → { logits, embedding, featureMap }, inputShape, layerNames); got something else.');
}

/** Checks `images` is a finite `[N,H,W,C]` float batch matching the model's input channels. */
export function checkImages(model: ImageClassifier, images: tf.Tensor4D, what = 'images'): void {
  checkClassifier(model);
  assertRank(images, 4, what);
  const [, h, w, c] = images.shape;
  const [eh, ew, ec] = model.inputShape;
  if (c !== ec || (eh !== null && eh !== h) || (ew !== null && ew !== w)) {
    throw new ShapeError(`${what} must have shape [N,${eh ?? 'H'},${ew ?? 'W'},${ec}] for model '${model.name}', got ${formatShape(images.shape)}.`);
  }
  if (images.shape[0] === 0) throw new ShapeError(`${what} must hold at least one image, got ${formatShape(images.shape)}.`);
  assertFinite(images, what);
}

/** Returns `layer` (default: the last entry of `model.layerNames`) after checking it exists. */
export function resolveLayer(model: ImageClassifier, layer: string | undefined): string {
  const names = model.layerNames;
  if (names.length === 0) throw new ConfigError(`model '${model.name}' exposes no layers to explain (layerNames is empty).`);
  if (layer === undefined) return names[names.length - 1]!;
  if (!names.includes(layer)) throw new UnknownNameError('layer', layer, names);
  return layer;
}

/** Checks explicit targets (length = batch, integers in [0,K)). */
export function checkTargets(model: ImageClassifier, targets: readonly number[], batch: number): void {
  if (targets.length !== batch) {
    throw new ShapeError(`targets must have one class per image: got ${targets.length} targets for a batch of ${batch}.`);
  }
  targets.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= model.numClasses) {
      throw new ConfigError(`targets[${i}] must be an integer class in [0,${model.numClasses}), got ${t}.`);
    }
  });
}

/** The predicted class of each image (argmax of the logits, inference mode). */
export async function predictedClasses(model: ImageClassifier, images: tf.Tensor4D): Promise<number[]> {
  const arg = tf.tidy(() => tf.argMax(model.forward(images, { training: false }).logits, 1));
  const data = await arg.data();
  arg.dispose();
  return Array.from(data);
}

/** Explicit targets after validation, or the predicted classes. */
export async function resolveTargets(model: ImageClassifier, images: tf.Tensor4D, targets: readonly number[] | undefined): Promise<number[]> {
  const batch = images.shape[0];
  if (targets !== undefined) {
    checkTargets(model, targets, batch);
    return [...targets];
  }
  return predictedClasses(model, images);
}

/** Checks the shared CAM options. */
export function checkCamOptions(options: CamOptions): void {
  if (options.upsample !== undefined && !UPSAMPLINGS.includes(options.upsample)) {
    throw new UnknownNameError('upsampling', options.upsample, UPSAMPLINGS);
  }
  if (options.score !== undefined && options.score !== 'logit' && options.score !== 'probability') {
    throw new UnknownNameError('target score', options.score, ['logit', 'probability']);
  }
}

/** A float one-hot matrix `[N,K]` (works for K = 1, unlike `tf.oneHot`). */
export function oneHotMatrix(targets: readonly number[], numClasses: number): tf.Tensor2D {
  const data = new Float32Array(targets.length * numClasses);
  targets.forEach((t, i) => {
    data[i * numClasses + t] = 1;
  });
  return tf.tensor2d(data, [targets.length, numClasses]);
}

/** Per-image target scores `[N]` from logits `[N,K]`: the target logit or softmax probability. */
export function targetScores(logits: tf.Tensor2D, targets: readonly number[], score: TargetScore = 'logit'): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = oneHotMatrix(targets, logits.shape[1]);
    const values = score === 'probability' ? tf.softmax(logits) : logits;
    return tf.sum(tf.mul(values, oneHot), 1) as tf.Tensor1D;
  });
}

/** Per-image min–max normalisation of `[N,H,W]` to [0,1]: `(x−min)/(max−min+eps)`. */
export function minMaxNormalize(maps: tf.Tensor3D, epsilon = NORMALIZE_EPSILON): tf.Tensor3D {
  return tf.tidy(() => {
    const min = tf.min(maps, [1, 2], true);
    const shifted = tf.sub(maps, min);
    const max = tf.max(shifted, [1, 2], true);
    return tf.div(shifted, tf.add(max, epsilon)) as tf.Tensor3D;
  });
}

/** Resizes `[N,h,w]` maps to `[N,H,W]` with the given convention. */
export function resizeMaps(maps: tf.Tensor3D, size: readonly [number, number], upsample: Upsampling): tf.Tensor3D {
  if (upsample === 'none' || (maps.shape[1] === size[0] && maps.shape[2] === size[1])) return tf.clone(maps);
  return tf.tidy(() => {
    const alignCorners = upsample === 'bilinear-align-corners';
    const resized = tf.image.resizeBilinear(tf.expandDims(maps, 3) as tf.Tensor4D, [size[0], size[1]], alignCorners, !alignCorners);
    return tf.squeeze(resized, [3]) as tf.Tensor3D;
  });
}

/**
 * The post-processing of every CAM (pytorch-grad-cam order): ReLU at layer resolution, bilinear
 * upsampling to the input size, per-image min–max normalisation. (pytorch-grad-cam normalises both
 * before and after resizing; bilinear resizing is affine-equivariant, so that equals normalising
 * once after it, up to the 1e-7 epsilon.)
 */
export function finishCam(cam: tf.Tensor3D, inputSize: readonly [number, number], options: CamOptions): tf.Tensor3D {
  return tf.tidy(() => {
    let maps = options.relu === false ? cam : tf.relu(cam);
    maps = resizeMaps(maps, inputSize, options.upsample ?? 'bilinear');
    if (options.normalize !== false) maps = minMaxNormalize(maps);
    return maps;
  });
}

/** Checks a saliency batch `[N,H,W]` against images `[N,H,W,C]`. */
export function checkSaliency(saliency: tf.Tensor3D, images: tf.Tensor4D, what = 'saliency'): void {
  assertRank(saliency, 3, what);
  const [n, h, w] = images.shape;
  if (saliency.shape[0] !== n || saliency.shape[1] !== h || saliency.shape[2] !== w) {
    throw new ShapeError(`${what} must have shape [${n},${h},${w}] to match images ${formatShape(images.shape)}, got ${formatShape(saliency.shape)}.`);
  }
  assertFinite(saliency, what);
}

/** Checks a positive-integer option when given. */
export function checkPositiveInteger(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw new ConfigError(`${what} must be a positive integer, got ${value}.`);
}

/**
 * Checks given draws (SmoothGrad's `noise`, max-sensitivity's `perturbations`): a Float32Array of
 * exactly `expected` finite values; `layout` names the expected product in the error.
 */
export function checkGivenDraws(values: unknown, expected: number, what: string, layout: string): void {
  if (!(values instanceof Float32Array)) throw new ConfigError(`${what} must be a Float32Array, got ${typeof values}.`);
  if (values.length !== expected) throw new ShapeError(`${what} must hold ${layout} = ${expected} values, got ${values.length}.`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ConfigError(`${what} must be finite, got ${values[bad]} at index ${bad}.`);
}

/** Checks a probability option in [lo, hi] when given. */
export function checkUnitInterval(value: number | undefined, what: string, openLow = false): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value > 1 || value < 0 || (openLow && value === 0)) {
    throw new ConfigError(`${what} must be a number in ${openLow ? '(0' : '[0'},1], got ${value}.`);
  }
}
