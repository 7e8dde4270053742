import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeFloatBits, assertArraysClose, checkClose, checkNoLeaks, runChecks, toleranceFor } from './checks';
import { useCpuBackend } from './index';

beforeAll(useCpuBackend);

describe('framework-free checks', () => {
  it('assertArraysClose measures the largest error and the share of the tolerance used, and names what failed', () => {
    const c = assertArraysClose([1, 2.5, Number.NaN], [1.001, 2.5, Number.NaN], { atol: 0.002, rtol: 0 });
    expect(c.maxAbsError).toBeCloseTo(0.001, 12);
    expect(c.maxRatio).toBeCloseTo(0.5, 9);
    expect(() => assertArraysClose([1, 2], [1, 2.1], { atol: 1e-3, rtol: 1e-2 }, 'grad')).toThrow(/grad: index 1: actual 2, expected 2.1, \|diff\| 0\.1\d* > 0\.022/);
    expect(() => assertArraysClose([1], [1, 2], { atol: 1 }, 'loss')).toThrow(/loss: length mismatch/);
    expect(() => assertArraysClose([Number.NaN], [0], { atol: 1 })).toThrow(/index 0/);
  });

  it('checkClose reads tensors with data() and compares nested arrays', async () => {
    const t = tf.tensor2d([[1, 2], [3, 4]]);
    expect((await checkClose(t, [[1, 2], [3, 4.00001]], { atol: 1e-4 })).maxAbsError).toBeCloseTo(1e-5, 6);
    t.dispose();
  });

  it('toleranceFor picks the active backend row and refuses a backend the table leaves out', () => {
    const table = { cpu: { atol: 1 }, webgl: { atol: 2 } };
    expect(activeFloatBits()).toBe(32);
    expect(toleranceFor(table)).toEqual({ atol: 1 });
    expect(toleranceFor(table, 'webgl')).toEqual({ atol: 2 });
    expect(() => toleranceFor(table, 'wasm')).toThrow(/no tolerances are stated for backend 'wasm' \(stated: cpu, webgl\)/);
  });

  it('checkNoLeaks throws on a leaked tensor; runChecks reports passes and failures', async () => {
    let leaked: tf.Tensor | undefined;
    await expect(checkNoLeaks(() => { leaked = tf.ones([2]); })).rejects.toThrow(/tensor leak/);
    leaked?.dispose();
    const reports = await runChecks([
      { name: 'ok', run: async () => ({ err: 1e-7 }) },
      { name: 'bad', run: async () => { throw new Error('loss: index 0'); } },
    ]);
    expect(reports.map((r) => [r.name, r.backend, r.measured, r.error?.split('\n')[0]])).toEqual([
      ['ok', 'cpu', { err: 1e-7 }, undefined],
      ['bad', 'cpu', undefined, 'Error: loss: index 0'],
    ]);
  });
});
