import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import { checkImages, checkPositiveInteger, checkSaliency, oneHotMatrix, resolveTargets } from '../common';

/** Options of {@link averageDropIncrease}. */
export interface AverageDropOptions {
  /** Target class per image (default: the predicted class). */
  readonly targets?: readonly number[];
  /** Images per forward pass (default 64). */
  readonly batchSize?: number;
}

/** The result of {@link averageDropIncrease}. */
export interface AverageDropResult {
  /** `mean_i max(0, Y_i − O_i) / Y_i` (a fraction; the papers print it ×100). Lower is better. */
  readonly averageDrop: number;
  /** `mean_i 1[Y_i < O_i]` (a fraction). Higher is better. */
  readonly increaseInConfidence: number;
  /** Per image `max(0, Y−O)/Y`. */
  readonly drops: number[];
  /** Per image `Y < O`. */
  readonly increased: boolean[];
  /** `Y`: target probability on the image. */
  readonly originalScores: number[];
  /** `O`: target probability on the image multiplied by its saliency. */
  readonly explanationScores: number[];
  readonly targets: number[];
}

async function probabilities(model: ImageClassifier, images: tf.Tensor4D, targets: number[], batchSize: number): Promise<number[]> {
  const out: number[] = [];
  for (let b = 0; b < images.shape[0]; b += batchSize) {
    const count = Math.min(batchSize, images.shape[0] - b);
    const p = tf.tidy(() => {
      const logits = model.forward(tf.slice(images, [b, 0, 0, 0], [count, -1, -1, -1]), { training: false }).logits;
      return tf.sum(tf.mul(tf.softmax(logits), oneHotMatrix(targets.slice(b, b + count), logits.shape[1])), 1);
    });
    out.push(...(await p.data()));
    p.dispose();
  }
  return out;
}

/**
 * Average Drop and Increase in Confidence (Chattopadhyay et al. 2018, the Grad-CAM++ paper):
 * `Y` = softmax probability of the target on the image, `O` = on `image ⊙ saliency` (in the
 * images' own, normalised space, so masked-out pixels become 0 = the dataset mean).
 */
export async function averageDropIncrease(
  model: ImageClassifier,
  images: tf.Tensor4D,
  saliency: tf.Tensor3D,
  options: AverageDropOptions = {},
): Promise<AverageDropResult> {
  checkImages(model, images);
  checkSaliency(saliency, images);
  checkPositiveInteger(options.batchSize, 'batchSize');
  const batchSize = options.batchSize ?? 64;
  const targets = await resolveTargets(model, images, options.targets);
  const explained = tf.tidy(() => tf.mul(images, tf.expandDims(saliency, 3)) as tf.Tensor4D);
  try {
    const y = await probabilities(model, images, targets, batchSize);
    const o = await probabilities(model, explained, targets, batchSize);
    const drops = y.map((yi, i) => Math.max(0, yi - o[i]!) / yi);
    const increased = y.map((yi, i) => yi < o[i]!);
    const n = y.length;
    return {
      averageDrop: drops.reduce((a, b) => a + b, 0) / n,
      increaseInConfidence: increased.filter(Boolean).length / n,
      drops,
      increased,
      originalScores: y,
      explanationScores: o,
      targets,
    };
  } finally {
    explained.dispose();
  }
}
