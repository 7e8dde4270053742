import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { assertFinite, assertOneOf, assertRank, assertShape } from './assert';
import { ConfigError, isLicoError, NonFiniteError, ShapeError, UnknownNameError } from './errors';

describe('assertions', () => {
  it('print the shapes on a mismatch', () => {
    const t = tf.zeros([2, 3]);
    expect(() => assertRank(t, 4, 'images')).toThrow(new ShapeError('images must have rank 4, got rank 2 with shape [2,3].'));
    expect(() => assertShape(t, [2, null, 4], 'x')).toThrow('x must have shape [2,?,4], got [2,3].');
    assertShape(t, [2, null], 'x');
    t.dispose();
  });
  it('find a non-finite value and say where', () => {
    const t = tf.tensor1d([1, Number.NaN]);
    expect(() => assertFinite(t, 'logits')).toThrow(NonFiniteError);
    expect(() => assertFinite(t, 'logits')).toThrow(/logits holds a non-finite value \(NaN\) at flat index 1/);
    t.dispose();
  });
  it('list the valid names', () => {
    expect(assertOneOf('a', ['a', 'b'], 'mode')).toBe('a');
    expect(() => assertOneOf('c', ['a', 'b'], 'mode')).toThrow(UnknownNameError);
    expect(() => assertOneOf('c', ['a', 'b'], 'mode')).toThrow("Unknown mode 'c'. Valid modes: 'a', 'b'.");
  });
});

describe('isLicoError', () => {
  it('recognises lico errors by their brand, with or without a code; plain errors are not', () => {
    const e = new ConfigError('bad');
    expect(isLicoError(e)).toBe(true);
    expect(isLicoError(e, 'CONFIG')).toBe(true);
    expect(isLicoError(e, 'SHAPE')).toBe(false);
    expect(isLicoError(new Error('x'))).toBe(false);
    expect(isLicoError({ code: 'CONFIG', name: 'ConfigError' })).toBe(false); // look-alikes are not
    expect(isLicoError(null)).toBe(false);
    expect(e.name).toBe('ConfigError');
  });

  it('works across the ESM and CJS builds, where instanceof does not', async () => {
    const { createRequire } = await import('node:module');
    const cjs = createRequire(import.meta.url)('../dist/index.cjs') as unknown as typeof import('./index');
    const esm = (await import('../dist/index.js' as string)) as unknown as typeof import('./index');
    const fromCjs = new cjs.ShapeError('s');
    expect(fromCjs instanceof esm.ShapeError).toBe(false);
    expect(esm.isLicoError(fromCjs, 'SHAPE')).toBe(true);
    expect(cjs.isLicoError(new esm.NotFoundError('n'), 'NOT_FOUND')).toBe(true);
  });
});
