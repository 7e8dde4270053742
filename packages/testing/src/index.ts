/**
 * Test helpers shared by the lico packages: tolerance checks per backend precision, tensor-leak
 * checks, central finite-difference gradient checks, golden files and backend setup.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertArraysClose, checkNoLeaks, flattenValues, type NamedCheck } from './checks';

export { registerConvEpilogueReference } from './conv-epilogue-reference';

/** Default absolute/relative tolerance of float32 work. */
export const FLOAT32_TOLERANCE = { atol: 1e-5, rtol: 1e-4 } as const;

/** Flattens a tensor, typed array or nested array to a plain number array. */
export function toArray(x: tf.Tensor | ArrayLike<number> | number | readonly unknown[]): number[] {
  if (x instanceof tf.Tensor) return Array.from(x.dataSync());
  return flattenValues(x);
}

/**
 * Asserts `|actual - expected| <= atol + rtol * |expected|` elementwise (NaN equals NaN only if
 * both are NaN). Throws with the first bad index and both values.
 */
export function expectClose(
  actual: tf.Tensor | ArrayLike<number> | number | readonly unknown[],
  expected: tf.Tensor | ArrayLike<number> | number | readonly unknown[],
  tolerance: { atol?: number; rtol?: number } = FLOAT32_TOLERANCE,
): void {
  const { maxAbsError } = assertArraysClose(toArray(actual), toArray(expected), tolerance);
  expect(maxAbsError).toBeGreaterThanOrEqual(0);
}

/** Largest relative error `max|a-e| / max(max|e|, floor)` between two arrays. */
export function relativeError(actual: tf.Tensor | ArrayLike<number>, expected: tf.Tensor | ArrayLike<number>, floor = 1e-12): number {
  const a = toArray(actual);
  const e = toArray(expected);
  if (a.length !== e.length) throw new Error(`length mismatch: actual ${a.length}, expected ${e.length}`);
  let num = 0;
  let den = floor;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - e[i]!));
    den = Math.max(den, Math.abs(e[i]!));
  }
  return num / den;
}

/**
 * Runs `fn` and asserts that the number of live tensors is the same before and after
 * (what `fn` returns is disposed first). Works with sync and async functions.
 */
export const expectNoLeaks: <T>(fn: () => T | Promise<T>) => Promise<T> = checkNoLeaks;

/**
 * Registers one vitest case per {@link NamedCheck} (the framework-free checks a browser page runs
 * too), each first asserting that `backend` is the active backend.
 */
export function describeChecks(title: string, backend: string, checks: () => readonly NamedCheck[]): void {
  describe(title, () => {
    for (const check of checks()) {
      it(check.name, async () => {
        expect(tf.getBackend()).toBe(backend);
        await check.run();
      });
    }
  });
}

/**
 * Central finite-difference check of the gradient of a scalar function `f` at `x`: compares
 * `tf.grad(f)(x)` with `(f(x+h e_i) - f(x-h e_i)) / 2h` on `maxChecks` coordinates (all when
 * small). Returns the worst relative error `|g - fd| / max(|fd|, |g|, scale)`.
 */
export function gradientCheck(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  options: { h?: number; maxChecks?: number; seed?: number; scale?: number } = {},
): number {
  const h = options.h ?? 1e-2;
  const grad = tf.tidy(() => tf.grad(f)(x));
  const g = grad.dataSync().slice();
  grad.dispose();
  const base = x.dataSync().slice();
  const n = base.length;
  const maxChecks = options.maxChecks ?? 24;
  let indices: number[] = [];
  if (n <= maxChecks) indices = Array.from({ length: n }, (_, i) => i);
  else {
    let s = (options.seed ?? 1) >>> 0;
    for (let k = 0; k < maxChecks; k++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      indices.push(s % n);
    }
  }
  const evalAt = (data: Float32Array): number => tf.tidy(() => f(tf.tensor(data, x.shape, 'float32')).dataSync()[0]!);
  let scale = options.scale ?? 0;
  for (const v of g) scale = Math.max(scale, Math.abs(v) * 1e-2);
  let worst = 0;
  for (const i of indices) {
    const plus = base.slice() as Float32Array;
    const minus = base.slice() as Float32Array;
    plus[i] = plus[i]! + h;
    minus[i] = minus[i]! - h;
    const fd = (evalAt(plus) - evalAt(minus)) / (2 * h);
    const err = Math.abs(g[i]! - fd) / Math.max(Math.abs(fd), Math.abs(g[i]!), scale, 1e-6);
    worst = Math.max(worst, err);
  }
  return worst;
}

/** Reads a JSON golden file (path relative to the caller's `import.meta.url`). */
export function loadGolden<T = Record<string, unknown>>(url: URL): T {
  return JSON.parse(readFileSync(url, 'utf-8')) as T;
}

/** Sets the pure-JS cpu backend (synchronous, always available). */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}
/**
 * Runs `fn` with the kernel `kernelName` unregistered on `backendName` (as on a stock backend that
 * lacks it, e.g. `UnsortedSegmentSum` on tfjs-backend-wasm), then registers it again.
 */
export function withoutKernel<T>(kernelName: string, backendName: string, fn: () => T): T {
  const config = tf.getKernel(kernelName, backendName);
  if (!config) throw new Error(`withoutKernel: '${kernelName}' is not registered for '${backendName}'.`);
  tf.unregisterKernel(kernelName, backendName);
  try {
    return fn();
  } finally {
    tf.registerKernel(config);
  }
}

export { type FormulaTensor, hashUnit, formulaTensor, formulaStateDict, formulaInputNCHW, formulaInputNHWC } from './torch-weights';
export * from './checks';
