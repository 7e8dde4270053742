import type * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, ConfigError, formatShape, ShapeError } from '@lico/core';

/** Largest magnitude a loss input may hold: squares of larger values, summed over a feature, overflow float32. */
export const MAX_INPUT_MAGNITUDE = 1e17;

/** Asserts rank and finiteness of a loss input; `what` names the argument in errors. */
export function checkInput(t: tf.Tensor, rank: number, what: string): void {
  if (t === null || t === undefined || typeof (t as { rank?: unknown }).rank !== 'number') {
    throw new TypeError(`${what} must be a tf.Tensor of rank ${rank}.`);
  }
  assertRank(t, rank, what);
  assertFinite(t, what);
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (Math.abs(data[i]!) > MAX_INPUT_MAGNITUDE) {
      throw new ConfigError(
        `${what} holds ${data[i]} at flat index ${i} of shape ${formatShape(t.shape)}: beyond ${MAX_INPUT_MAGNITUDE.toExponential()}, its squares overflow float32 and the loss would be meaningless. Scale the features down.`,
      );
    }
  }
}

/** Throws a {@link ShapeError} printing both shapes unless `a.shape[i] === b.shape[j]`. */
export function checkSameDim(a: tf.Tensor, i: number, aName: string, b: tf.Tensor, j: number, bName: string, meaning: string): void {
  if (a.shape[i] !== b.shape[j]) {
    throw new ShapeError(
      `${aName} ${formatShape(a.shape)} and ${bName} ${formatShape(b.shape)} must agree on the ${meaning} (axis ${i} vs axis ${j}).`,
    );
  }
}
