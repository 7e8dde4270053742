import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { createEma } from './ema';
import { clipFactor, globalNorm } from './clip';

await useCpuBackend();

describe('createEma', () => {
  it('shadow = decay*shadow + (1-decay)*value, swapped in for evaluation and restored exactly', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]), true, 'ema-test-v');
    const ema = createEma({ v }, { decay: 0.9 });
    v.assign(tf.tensor1d([11, 12]));
    await expectNoLeaks(() => ema.update());
    expectClose(ema.namedVariables()['v']!, [0.9 * 1 + 0.1 * 11, 0.9 * 2 + 0.1 * 12]);
    v.assign(tf.tensor1d([21, 22]));
    ema.update();
    const s1 = [0.9 * 2 + 0.1 * 21, 0.9 * 3 + 0.1 * 22];
    expectClose(ema.namedVariables()['v']!, s1);
    const seen = await ema.withAveraged(async () => Array.from(v.dataSync()));
    expectClose(seen, s1);
    expect(Array.from(v.dataSync())).toEqual([21, 22]);
    expect(ema.config).toMatchObject({ decay: 0.9 });
    expect(() => createEma({ v }, { decay: 1 })).toThrow(/decay/);
    ema.dispose();
    v.dispose();
  });
});

describe('gradient clipping', () => {
  it('global norm and the torch clip factor', () => {
    const n = globalNorm([tf.tensor1d([3]), tf.tensor2d([[4, 0]])]);
    expectClose(n, 5);
    expect(clipFactor(5, 1)).toBeCloseTo(1 / (5 + 1e-6), 12);
    expect(clipFactor(0.5, 1)).toBe(1);
    expectClose(globalNorm([]), 0);
  });
});
