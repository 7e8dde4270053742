import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { relativeError } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels';
import { onCpuAndWasm, rand } from './test-parity';

beforeAll(() => {
  registerWasmTrainingKernels();
});

/**
 * A small pre-activation residual network in the WRN pattern (batch norm in training mode via
 * moments, strided 3×3 and 1×1 shortcut convolutions with bias, max pooling, global pooling,
 * dense head, cross-entropy), with a smooth activation (ELU) so that no activation sits on a kink.
 */
function networkGradients(): tf.Tensor[] {
  const x = rand([3, 10, 10, 3], 21);
  const shapes: number[][] = [[3, 3, 3, 8], [8], [3, 3, 8, 12], [12], [1, 1, 8, 12], [12], [3, 3, 12, 12], [12], [8], [12], [12, 5], [5]];
  const params = shapes.map((s, i) => tf.mul(rand(s, 30 + i), s.length === 4 ? 0.4 : 0.5));
  const labels = tf.oneHot(tf.tensor1d([0, 3, 4], 'int32'), 5);
  const bn = (h: tf.Tensor, g: tf.Tensor) => {
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-3))), tf.add(g, 1)), 0.1);
  };
  const f = (...p: tf.Tensor[]) => {
    const [w1, b1, w2, b2, ws, bs, w3, b3, g1, g2, fc, fcb] = p as [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor, tf.Tensor, tf.Tensor2D, tf.Tensor1D];
    const h = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w1, bias: b1, strides: 1, pad: 'same' });
    const a = tf.elu(bn(h, g1)) as tf.Tensor4D;
    const short = tf.fused.conv2d({ x: a, filter: ws, bias: bs, strides: 2, pad: 'same' });
    const c = tf.fused.conv2d({ x: a, filter: w2, bias: b2, strides: 2, pad: 'same' });
    const d = tf.fused.conv2d({ x: tf.elu(bn(c, g2)) as tf.Tensor4D, filter: w3, bias: b3, strides: 1, pad: 'same' });
    const r = tf.maxPool(tf.add(short, d) as tf.Tensor4D, 3, 2, 'same');
    return tf.losses.softmaxCrossEntropy(labels, tf.add(tf.matMul(tf.mean(tf.elu(r), [1, 2]) as tf.Tensor2D, fc), fcb)) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(f)(params);
  return [value, ...grads];
}

describe('a whole small residual network trains identically on wasm and cpu', () => {
  // The gradient of a conv bias followed by batch norm is zero up to rounding; a floor of 1e-2 on
  // the denominator keeps such rounding noise from counting as a relative error.
  it('loss and all 12 parameter gradients match (relative error < 1e-4)', async () => {
    const { cpu, wasm } = await onCpuAndWasm(networkGradients);
    expect(cpu).toHaveLength(13);
    for (let i = 0; i < cpu.length; i++) expect(relativeError(wasm[i]!, cpu[i]!, 1e-2), `output ${i}`).toBeLessThan(1e-4);
  });
});
