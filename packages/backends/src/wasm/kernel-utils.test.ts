import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { stockKernel } from './kernel-utils';

describe('stockKernel', () => {
  it('calls the recorded stock kernel with the arguments it was handed, and names the kernel when none was recorded', () => {
    const stock = stockKernel('Example');
    const args = { inputs: {}, backend: null, attrs: { k: 3 } };
    expect(() => stock.call(args)).toThrow('Example on wasm: the stock kernel was not recorded');
    const seen: unknown[] = [];
    const out = { dataId: {}, shape: [2], dtype: 'float32' as const };
    stock.keep(((a: unknown) => {
      seen.push(a);
      return out;
    }) as unknown as tf.KernelFunc);
    expect(stock.call(args)).toBe(out);
    expect(seen).toEqual([args]);
  });
});
