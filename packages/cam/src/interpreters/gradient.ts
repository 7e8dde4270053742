import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import { checkImages, resolveTargets } from '../common';
import {
  checkChannelReduction,
  checkInputAttributionOptions,
  finishAttributionMap,
  inputGradients,
  reduceChannels,
  type ChannelReduction,
  type InputAttributionOptions,
} from './input-attribution';

/** Options of {@link gradient}. */
export interface GradientOptions extends InputAttributionOptions {
  /**
   * How `|∂y/∂x|` `[N,H,W,C]` becomes a map: `'max'` over channels (default, Simonyan et al. 2014),
   * `'sum'` or `'mean'`.
   */
  readonly channelReduction?: ChannelReduction;
}

/**
 * Vanilla gradient saliency (Simonyan et al. 2014; Captum's `Saliency` with its default
 * `abs=True`): `|∂y^c/∂x|` of the target logit (or probability, `score`) at the input, then the
 * **maximum over channels** (`channelReduction`), then per-image min–max normalisation
 * (`normalize: false` returns the raw map). One forward and one backward pass for the batch;
 * `layer` is ignored.
 */
export async function gradient(model: ImageClassifier, images: tf.Tensor4D, options: GradientOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkInputAttributionOptions(options);
  checkChannelReduction(options.channelReduction);
  const targets = await resolveTargets(model, images, options.targets);
  return tf.tidy(() => {
    const g = tf.abs(inputGradients(model, images, targets, options.score)) as tf.Tensor4D;
    return finishAttributionMap(reduceChannels(g, options.channelReduction ?? 'max'), 'absolute', options.normalize);
  });
}
