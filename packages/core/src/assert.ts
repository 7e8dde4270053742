import * as tf from '@tensorflow/tfjs-core';
import type { DataType, Tensor } from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, NonFiniteError, ShapeError, UnknownNameError } from './errors';

/** Formats a shape as `[a,b,c]`. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** Throws a {@link ShapeError} unless `t` has rank `rank`. `what` names the argument. */
export function assertRank(t: Tensor, rank: number, what: string): void {
  if (t.rank !== rank) {
    throw new ShapeError(`${what} must have rank ${rank}, got rank ${t.rank} with shape ${formatShape(t.shape)}.`);
  }
}

/**
 * Throws a {@link ShapeError} unless `t` has shape `shape`; `null` entries match any size.
 */
export function assertShape(t: Tensor, shape: readonly (number | null)[], what: string): void {
  const ok = t.rank === shape.length && shape.every((d, i) => d === null || d === t.shape[i]);
  if (!ok) {
    throw new ShapeError(`${what} must have shape ${formatShape(shape)}, got ${formatShape(t.shape)}.`);
  }
}

/** Throws a {@link DTypeError} unless `t` has one of the dtypes. */
export function assertDType(t: Tensor, dtypes: DataType | readonly DataType[], what: string): void {
  const list = typeof dtypes === 'string' ? [dtypes] : dtypes;
  if (!list.includes(t.dtype)) {
    throw new DTypeError(`${what} must have dtype ${list.join(' or ')}, got ${t.dtype}.`);
  }
}

/**
 * Throws a {@link NonFiniteError} if `t` holds NaN or ±Infinity. Reads the data synchronously:
 * use at API boundaries, not inside hot loops.
 */
export function assertFinite(t: Tensor, what: string): void {
  if (t.dtype !== 'float32') return;
  const data = t.dataSync() as Float32Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new NonFiniteError(`${what} holds a non-finite value (${v}) at flat index ${i} of shape ${formatShape(t.shape)}.`);
    }
  }
}

/**
 * The names of the float tensors of `tensors` that hold NaN or ±Infinity, in the map's order (one
 * reduction per tensor, one read back for all). Own keys only.
 */
export function nonFiniteNames(tensors: Readonly<Record<string, Tensor>>): string[] {
  const names = Object.keys(tensors).filter((k) => Object.prototype.hasOwnProperty.call(tensors, k) && tensors[k]!.dtype === 'float32' && tensors[k]!.size > 0);
  if (names.length === 0) return [];
  const stacked = tf.tidy(() => tf.stack(names.map((k) => tf.cast(tf.all(tf.isFinite(tensors[k]!)), 'int32'))));
  const flags = stacked.dataSync();
  stacked.dispose();
  return names.filter((_, i) => flags[i] === 0);
}

/** Throws a {@link NonFiniteError} unless the number is finite. */
export function assertFiniteNumber(value: number, what: string): void {
  if (!Number.isFinite(value)) throw new NonFiniteError(`${what} must be finite, got ${value}.`);
}

/** Throws a {@link ConfigError} unless `value` is a positive integer. */
export function assertPositiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`${what} must be a positive integer, got ${value}.`);
}

/** Throws a {@link ConfigError} unless `value` is a finite number > 0. */
export function assertPositive(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${what} must be a finite number > 0, got ${value}.`);
}

/** Returns `value` typed as one of `valid`, or throws an {@link UnknownNameError} listing them. */
export function assertOneOf<T extends string>(value: string, valid: readonly T[], kind: string): T {
  if (!(valid as readonly string[]).includes(value)) throw new UnknownNameError(kind, value, valid);
  return value as T;
}
