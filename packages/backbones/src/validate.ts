import type * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, formatShape, ShapeError } from '@lico/core';

/**
 * Checks a classifier input at the API boundary: rank 4 (NHWC), the expected channel count (and
 * spatial size where fixed), float values all finite. `what` names the argument in messages.
 */
export function validateImages(images: tf.Tensor, inputShape: readonly [number | null, number | null, number], what = 'images'): void {
  assertRank(images, 4, `${what} (NHWC)`);
  const [, h, w, c] = images.shape as [number, number, number, number];
  const [eh, ew, ec] = inputShape;
  if (c !== ec) {
    throw new ShapeError(`${what} must have ${ec} channel(s) in the last axis (NHWC), got shape ${formatShape(images.shape)}.`);
  }
  if ((eh !== null && h !== eh) || (ew !== null && w !== ew)) {
    throw new ShapeError(`${what} must have spatial size ${formatShape([eh, ew])}, got shape ${formatShape(images.shape)}.`);
  }
  if (images.dtype !== 'float32') throw new ShapeError(`${what} must be float32, got ${images.dtype}.`);
  assertFinite(images, what);
}
