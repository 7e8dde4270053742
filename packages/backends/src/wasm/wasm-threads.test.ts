import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { rand } from './test-parity';
import { startThreadedWasm, wasmThreadsStarted } from './wasm-threads';

/** A small conv net step: forward + all gradients, returned as arrays. */
function convStep(): Float32Array[] {
  return tf.tidy(() => {
    const x = rand([4, 12, 12, 3], 1);
    const w1 = rand([3, 3, 3, 16], 2);
    const w2 = rand([3, 3, 16, 8], 3);
    const d = rand([8 * 36, 5], 4);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
      const h = tf.relu(tf.conv2d(x as tf.Tensor4D, a as tf.Tensor4D, 1, 'same'));
      const g = tf.conv2d(h, b as tf.Tensor4D, 2, 'same');
      return tf.sum(tf.logSoftmax(tf.matMul(tf.reshape(g, [4, -1]), c)));
    };
    const { value, grads } = tf.valueAndGrads(f)([w1, w2, d]);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** Both conv gradients, large enough (14M multiply-adds each) for lico's SIMD kernels to use their worker threads. */
function bigConvGrads(): number[][] {
  return tf.tidy(() => {
    const x = rand([8, 16, 16, 32], 7);
    const dy = rand([8, 16, 16, 24], 8);
    const w = rand([3, 3, 32, 24], 9);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC' };
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, 32, 24] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: [8, 16, 16, 32] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return [Array.from(dw.dataSync()), Array.from(dx.dataSync())];
  });
}

describe('startThreadedWasm', () => {
  it('runs the threaded build in Node with identical results to one thread', async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    const single = convStep();
    // Large enough (16M multiply-adds) for lico's BatchMatMul to split its rows over the threads.
    const big = () => tf.tidy(() => [tf.matMul(rand([256, 256], 5), rand([256, 256], 6)), tf.matMul(rand([4, 96, 128], 7), rand([4, 160, 96], 8), true, true)].map((t) => Array.from(t.dataSync())));
    const singleMm = big();
    const singleGrads = bigConvGrads();
    expect(await startThreadedWasm(2)).toBe(2);
    expect(wasmThreadsStarted()).toBe(2);
    await tf.setBackend('wasm');
    const threaded = convStep();
    for (let i = 0; i < single.length; i++) expect(Array.from(threaded[i]!)).toEqual(Array.from(single[i]!));
    expect(big()).toEqual(singleMm);
    expect(bigConvGrads()).toEqual(singleGrads);
    await expect(startThreadedWasm(3)).rejects.toThrow(/already runs with 2 threads/);
    await expect(startThreadedWasm(0)).rejects.toThrow(RangeError);
  });
});
