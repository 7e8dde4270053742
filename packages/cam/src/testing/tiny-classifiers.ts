/**
 * Hand-built `ImageClassifier`s with closed-form behaviour, for this package's tests (not exported
 * from the package index).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BiasTap, ClassifierOutput, ImageClassifier } from '@lico/core';

function tidyOutput(fn: () => ClassifierOutput): ClassifierOutput {
  return tf.tidy(() => fn() as unknown as tf.TensorContainer) as unknown as ClassifierOutput;
}

/** One stage of a {@link sequentialClassifier}. */
export interface Stage {
  readonly name: string;
  apply(x: tf.Tensor4D): tf.Tensor4D;
  /** The stage with `tap` on the outputs of its biased layers (`forwardWithBiasTaps`); default: `apply`, no layer tapped. */
  applyWithTaps?(x: tf.Tensor4D, tap: BiasTap): tf.Tensor4D;
}

/** Builds an `ImageClassifier` from named stages and a head on the last stage's output. */
export function sequentialClassifier(options: {
  name: string;
  inputShape: [number | null, number | null, number];
  numClasses: number;
  stages: Stage[];
  head: (featureMap: tf.Tensor4D) => tf.Tensor2D;
  variables?: Record<string, tf.Variable>;
}): ImageClassifier & { forwardCalls: number } {
  const { stages, head } = options;
  const names = stages.map((s) => s.name);
  const runFrom = (x: tf.Tensor4D, from: number, to: number, tap?: BiasTap): tf.Tensor4D => {
    let y = x;
    for (let i = from; i < to; i++) {
      const stage = stages[i]!;
      y = tap && stage.applyWithTaps ? stage.applyWithTaps(y, tap) : stage.apply(y);
    }
    return y;
  };
  const finish = (featureMap: tf.Tensor4D): ClassifierOutput => ({
    featureMap,
    embedding: tf.mean(featureMap, [1, 2]) as tf.Tensor2D,
    logits: head(featureMap),
  });
  const index = (layer: string): number => {
    const i = names.indexOf(layer);
    if (i < 0) throw new Error(`unknown layer ${layer}`);
    return i;
  };
  const variables = options.variables ?? {};
  const model = {
    specificationVersion: 'v1' as const,
    name: options.name,
    numClasses: options.numClasses,
    inputShape: options.inputShape,
    config: {},
    layerNames: names,
    forwardCalls: 0,
    forward(images: tf.Tensor4D): ClassifierOutput {
      model.forwardCalls++;
      return tidyOutput(() => finish(runFrom(images, 0, stages.length)));
    },
    forwardWithBiasTaps(images: tf.Tensor4D, tap: BiasTap): ClassifierOutput {
      model.forwardCalls++;
      return tidyOutput(() => finish(runFrom(images, 0, stages.length, tap)));
    },
    forwardTo(images: tf.Tensor4D, layer: string): tf.Tensor4D {
      return tf.tidy(() => runFrom(images, 0, index(layer) + 1));
    },
    forwardFrom(activation: tf.Tensor4D, layer: string): ClassifierOutput {
      return tidyOutput(() => finish(runFrom(activation, index(layer) + 1, stages.length)));
    },
    trainableVariables: () => Object.values(variables),
    nonTrainableVariables: () => [],
    namedVariables: () => variables,
    countParams: () => Object.values(variables).reduce((a, v) => a + v.size, 0),
    dispose: () => Object.values(variables).forEach((v) => v.dispose()),
  };
  return model;
}

/**
 * Captum's `BasicModel_ConvNet_One_Conv`: conv(1→2, 3×3, weights 1, bias [−50,−75]) → ReLU →
 * flatten (channels first) → fc(8→4, each row `[1,1,1,1,1,−1,−1,−1]`) → ReLU. Layers: `'conv'`
 * (before the ReLU) and `'relu'`.
 */
export function captumConvNet(): ImageClassifier {
  const filter = tf.keep(tf.ones([3, 3, 1, 2]));
  const bias = tf.keep(tf.tensor1d([-50, -75]));
  const fc = tf.keep(tf.tensor2d([1, 1, 1, 1, 1, -1, -1, -1].flatMap((v) => [v, v, v, v]), [8, 4]));
  return sequentialClassifier({
    name: 'captum-one-conv',
    inputShape: [4, 4, 1],
    numClasses: 4,
    stages: [
      { name: 'conv', apply: (x) => tf.add(tf.conv2d(x, filter as tf.Tensor4D, 1, 'valid'), bias) as tf.Tensor4D },
      { name: 'relu', apply: (x) => tf.relu(x) },
    ],
    head: (f) => tf.relu(tf.matMul(tf.reshape(tf.transpose(f, [0, 3, 1, 2]), [f.shape[0], 8]) as tf.Tensor2D, fc as tf.Tensor2D)) as tf.Tensor2D,
  });
}

/**
 * The feature map is the input itself (layer `'input'`); logits = global average pool then a
 * linear layer `weights` `[C,K]`. So `∂y_c/∂A^k_ij = weights[k][c] / (H·W)` everywhere.
 */
export function linearGapClassifier(weights: number[][], height: number, width: number, bias?: number[]): ImageClassifier {
  const channels = weights.length;
  const k = weights[0]!.length;
  const w = tf.keep(tf.tensor2d(weights.flat(), [channels, k]));
  const b = tf.keep(tf.tensor1d(bias ?? new Array(k).fill(0)));
  return sequentialClassifier({
    name: 'linear-gap',
    inputShape: [height, width, channels],
    numClasses: k,
    stages: [{ name: 'input', apply: (x) => tf.clone(x) }],
    head: (f) => tf.add(tf.matMul(tf.mean(f, [1, 2]) as tf.Tensor2D, w as tf.Tensor2D), b) as tf.Tensor2D,
  });
}

/** One class whose logit is the sum of all pixels (the torch-cam metric test model). */
export function sumClassifier(height: number, width: number, channels = 1): ImageClassifier {
  return sequentialClassifier({
    name: 'sum',
    inputShape: [height, width, channels],
    numClasses: 1,
    stages: [{ name: 'input', apply: (x) => tf.clone(x) }],
    head: (f) => tf.reshape(tf.sum(f, [1, 2, 3]), [f.shape[0], 1]) as tf.Tensor2D,
  });
}

/**
 * Logits linear in the pixels: `y_k = Σ_p weights[k][p] · x_p + bias_k` with `p` the NHWC flat index
 * of one image (`weights[k]` has `H·W·C` entries). So `∂y_k/∂x = weights[k]` everywhere. Layer
 * `'input'` (the image itself).
 */
export function pixelLinearClassifier(weights: number[][], height: number, width: number, channels: number, bias?: number[]): ImageClassifier & { forwardCalls: number } {
  const k = weights.length;
  const size = height * width * channels;
  weights.forEach((row, i) => {
    if (row.length !== size) throw new Error(`weights[${i}] has ${row.length} entries, expected ${size}`);
  });
  const w = tf.keep(tf.transpose(tf.tensor2d(weights.flat(), [k, size])));
  const b = tf.keep(tf.tensor1d(bias ?? new Array(k).fill(0)));
  return sequentialClassifier({
    name: 'pixel-linear',
    inputShape: [height, width, channels],
    numClasses: k,
    stages: [{ name: 'input', apply: (x) => tf.clone(x) }],
    head: (f) => tf.add(tf.matMul(tf.reshape(f, [f.shape[0], size]) as tf.Tensor2D, w as tf.Tensor2D), b) as tf.Tensor2D,
  });
}

/** One class whose logit is `Σ_p fn(x_p)` over all values of the image (e.g. `tf.square`, `tf.tanh`). */
export function pointwiseSumClassifier(fn: (x: tf.Tensor4D) => tf.Tensor4D, height: number, width: number, channels = 1): ImageClassifier & { forwardCalls: number } {
  return sequentialClassifier({
    name: 'pointwise-sum',
    inputShape: [height, width, channels],
    numClasses: 1,
    stages: [{ name: 'input', apply: (x) => tf.clone(x) }],
    head: (f) => tf.reshape(tf.sum(fn(f), [1, 2, 3]), [f.shape[0], 1]) as tf.Tensor2D,
  });
}
