import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { wasmKernelThreads } from './conv-grad-kernels';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { rand } from './test-parity';
import { startThreadedWasm, wasmThreadsStarted } from './wasm-threads';

// A file of its own: the threaded build starts once per process.
describe('startThreadedWasm with xnnpackThreads', () => {
  it('rejects an XNNPACK pool larger than the thread count, naming both', async () => {
    await expect(startThreadedWasm(2, { xnnpackThreads: 3 })).rejects.toThrow('xnnpackThreads must be an integer in [1, threads = 2], got 3');
    await expect(startThreadedWasm(2, { xnnpackThreads: 0 })).rejects.toThrow(RangeError);
    expect(wasmThreadsStarted()).toBe(0);
  });

  it('gives XNNPACK one thread while lico\'s kernels keep two, with the numbers of one thread', async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    // 14M multiply-adds: above the size at which lico's kernels share a call between threads.
    const grad = () => tf.tidy(() => {
      const x = rand([8, 16, 16, 32], 7);
      const dy = rand([8, 16, 16, 24], 8);
      const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 24] };
      return Array.from((tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync());
    });
    const single = grad();
    expect(await startThreadedWasm(2, { xnnpackThreads: 1 })).toBe(1);
    expect(wasmThreadsStarted()).toBe(2);
    await tf.setBackend('wasm');
    expect(grad()).toEqual(single);
    const kernels = wasmKernelThreads()!;
    expect(kernels.threads).toBe(2);
    expect(kernels.parallelCalls).toBeGreaterThan(0);
  });
});
