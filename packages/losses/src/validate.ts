import type * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, formatShape, ShapeError } from '@lico/core';

/** Asserts rank and finiteness of a loss input; `what` names the argument in errors. */
export function checkInput(t: tf.Tensor, rank: number, what: string): void {
  if (t === null || t === undefined || typeof (t as { rank?: unknown }).rank !== 'number') {
    throw new TypeError(`${what} must be a tf.Tensor of rank ${rank}.`);
  }
  assertRank(t, rank, what);
  assertFinite(t, what);
}

/** Throws a {@link ShapeError} printing both shapes unless `a.shape[i] === b.shape[j]`. */
export function checkSameDim(a: tf.Tensor, i: number, aName: string, b: tf.Tensor, j: number, bName: string, meaning: string): void {
  if (a.shape[i] !== b.shape[j]) {
    throw new ShapeError(
      `${aName} ${formatShape(a.shape)} and ${bName} ${formatShape(b.shape)} must agree on the ${meaning} (axis ${i} vs axis ${j}).`,
    );
  }
}
