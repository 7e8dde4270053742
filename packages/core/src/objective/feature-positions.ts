import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { formatShape } from '../assert';
import type { ImageClassifier } from '../spec';

/**
 * The number of spatial positions `H*W` of `model`'s last feature map for images of
 * `imageShape` `[height, width, channels]`: the output size the mapping net `h_ψ` must have
 * (e.g. 49 for a WRN on 28×28 images, 64 on 32×32). Runs one forward pass on a zero image.
 *
 * ```ts
 * const mappingNet = createMappingNet({ inputDim: encoder.outputDim, outputDim: featurePositions(model, [28, 28, 1]) });
 * ```
 */
export function featurePositions(model: ImageClassifier, imageShape: readonly [number, number, number]): number {
  if (imageShape.length !== 3 || imageShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(`featurePositions: imageShape must be [height, width, channels] of positive integers, got ${formatShape(imageShape)}.`);
  }
  return tf.tidy(() => {
    const out = model.forward(tf.zeros([1, ...imageShape]) as tf.Tensor4D, { training: false });
    const [, h, w] = out.featureMap.shape;
    return h * w;
  });
}
