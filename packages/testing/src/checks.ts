/**
 * Framework-free numeric checks, shared by the vitest tests and the pages that run the same checks
 * in a browser (`examples/browser-explain/numerics`): no vitest, no Node built-in. A failed check
 * throws an `Error`; a passed one returns what it measured.
 *
 * Tolerances are stated per backend, in the style of tfjs's `expectArraysClose` (whose epsilon
 * follows the backend's float precision): a check holds a table `{ cpu, wasm, webgl }` of
 * tolerances and {@link toleranceFor} picks the active backend's row.
 */
import * as tf from '@tensorflow/tfjs-core';

/** `|actual − expected| ≤ atol + rtol·|expected|`, elementwise. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

/** Values a check compares: a tensor (read with `await data()`), a typed array, a nested array or a number. */
export type CheckValues = tf.Tensor | ArrayLike<number> | number | readonly unknown[];

/** What one comparison measured. */
export interface Closeness {
  /** Largest `|actual − expected|`. */
  readonly maxAbsError: number;
  /** Largest `|actual − expected| / (atol + rtol·|expected|)`: the share of the tolerance used (≤ 1 passes). */
  readonly maxRatio: number;
}

/** Flattens a typed array, nested array or number (no tensors) to a plain number array. */
export function flattenValues(x: ArrayLike<number> | number | readonly unknown[]): number[] {
  if (typeof x === 'number') return [x];
  return (Array.from(x as ArrayLike<number>) as unknown[]).flat(Infinity as 1) as number[];
}

/** The values of `x` as a flat array; tensors are read asynchronously (`await data()`: no GPU stall). */
export async function readValues(x: CheckValues): Promise<number[]> {
  if (x instanceof tf.Tensor) return Array.from(await x.data());
  return flattenValues(x as ArrayLike<number> | number | readonly unknown[]);
}

/**
 * Asserts `|actual − expected| ≤ atol + rtol·|expected|` elementwise (NaN equals NaN only if both
 * are NaN); throws naming `what`, the first bad index and both values. Returns what it measured.
 */
export function assertArraysClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Partial<Tolerance>, what = 'values'): Closeness {
  const atol = tolerance.atol ?? 0;
  const rtol = tolerance.rtol ?? 0;
  if (actual.length !== expected.length) throw new Error(`${what}: length mismatch: actual ${actual.length}, expected ${expected.length}`);
  let maxAbsError = 0;
  let maxRatio = 0;
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i]!;
    const y = expected[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) throw new Error(`${what}: index ${i}: actual ${x}, expected ${y}`);
      continue;
    }
    const err = Math.abs(x - y);
    const allowed = atol + rtol * Math.abs(y);
    if (!(err <= allowed)) {
      throw new Error(`${what}: index ${i}: actual ${x}, expected ${y}, |diff| ${err} > ${allowed} (atol ${atol}, rtol ${rtol})`);
    }
    maxAbsError = Math.max(maxAbsError, err);
    maxRatio = Math.max(maxRatio, allowed > 0 ? err / allowed : 0);
  }
  return { maxAbsError, maxRatio };
}

/** {@link assertArraysClose} on any {@link CheckValues} (tensors read with `await data()`). */
export async function checkClose(actual: CheckValues, expected: CheckValues, tolerance: Partial<Tolerance>, what = 'values'): Promise<Closeness> {
  return assertArraysClose(await readValues(actual), await readValues(expected), tolerance, what);
}

/**
 * Runs `fn` and throws if the number of live tensors differs before and after (what `fn` returns
 * is not counted). Works with sync and async functions; returns `fn`'s result.
 */
export async function checkNoLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const returned = collectTensors(result);
  const after = tf.memory().numTensors - returned.length;
  if (after !== before) throw new Error(`tensor leak: ${before} tensors before, ${after} after (not counting ${returned.length} returned)`);
  return result;
}

function collectTensors(x: unknown, out: tf.Tensor[] = [], seen = new Set<unknown>()): tf.Tensor[] {
  if (x === null || typeof x !== 'object' || seen.has(x)) return out;
  seen.add(x);
  if (x instanceof tf.Tensor) {
    if (!x.isDisposed && !(x instanceof tf.Variable)) out.push(x);
    return out;
  }
  for (const v of Array.isArray(x) ? x : Object.values(x as object)) collectTensors(v, out, seen);
  return out;
}

/** Backends a tolerance table may name. */
export type CheckBackend = 'cpu' | 'wasm' | 'webgl' | 'webgpu' | 'tensorflow';

/**
 * The active backend's row of a per-backend tolerance table (tfjs's `expectArraysClose` picks its
 * epsilon from the backend's precision the same way). Throws for a backend the table leaves out,
 * and on a backend computing in float16 (a WebGL device without float32 textures): the tables
 * state float32 tolerances.
 */
export function toleranceFor<T>(table: Readonly<Partial<Record<CheckBackend, T>>>, backend: string = tf.getBackend()): T {
  const row = table[backend as CheckBackend];
  if (row === undefined) throw new Error(`no tolerances are stated for backend '${backend}' (stated: ${Object.keys(table).join(', ')})`);
  if (backend === tf.getBackend() && activeFloatBits() !== 32) {
    throw new Error(`backend '${backend}' computes in float16 (no float32 textures on this device): the tolerances here are stated for float32`);
  }
  return row;
}

/**
 * The active backend's float width. On WebGL from `WEBGL_RENDER_FLOAT32_ENABLED`: tfjs-backend-webgl
 * 4.22's `floatPrecision()` answers 16 exactly when float32 rendering is enabled
 * (tensorflow/tfjs#6980, open).
 */
export function activeFloatBits(): 16 | 32 {
  if (tf.getBackend() === 'webgl') return tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 32 : 16;
  return tf.backend().floatPrecision();
}

/** One named check: `run()` throws on a mismatch, else resolves to what it measured (name → value). */
export interface NamedCheck {
  readonly name: string;
  run(): Promise<Record<string, number>>;
}

/** One line of {@link runChecks}' report. */
export interface CheckReport {
  readonly name: string;
  readonly backend: string;
  readonly ms: number;
  readonly measured?: Record<string, number>;
  readonly error?: string;
}

/** Runs checks one after the other, catching each failure (a page's report to its test). */
export async function runChecks(checks: readonly NamedCheck[]): Promise<CheckReport[]> {
  const out: CheckReport[] = [];
  for (const check of checks) {
    const t0 = performance.now();
    try {
      const measured = await check.run();
      out.push({ name: check.name, backend: tf.getBackend(), ms: Math.round(performance.now() - t0), measured });
    } catch (error) {
      out.push({ name: check.name, backend: tf.getBackend(), ms: Math.round(performance.now() - t0), error: String((error as Error)?.stack ?? error) });
    }
  }
  return out;
}
