import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpoint } from './checkpoint';

beforeAll(useCpuBackend);

/** A "block" with closed-form gradients: f(x, y) = x·y + sin(x) (elementwise). */
const block = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.add(tf.mul(x, y), tf.sin(x));

describe('checkpoint', () => {
  it('has the values and gradients of the function it wraps (closed form), leak-free', async () => {
    const x = tf.tensor1d([0.3, -1.2, 2.0]);
    const y = tf.tensor1d([1.5, 0.25, -0.7]);
    const w = tf.tensor1d([1, -2, 0.5]);
    await expectNoLeaks(() =>
      tf.tidy(() => {
        expectClose(checkpoint(block)(x, y), block(x, y), { atol: 0 });
        // loss = Σ w·f(x,y): ∂/∂x = w·(y + cos x), ∂/∂y = w·x
        const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(checkpoint(block)(a, b), w)))([x, y]);
        const xs = [0.3, -1.2, 2.0];
        const ys = [1.5, 0.25, -0.7];
        const ws = [1, -2, 0.5];
        expectClose(gx!, xs.map((v, i) => ws[i]! * (ys[i]! + Math.cos(v))), { atol: 1e-6 });
        expectClose(gy!, xs.map((v, i) => ws[i]! * v), { atol: 1e-6 });
      }),
    );
    tf.dispose([x, y, w]);
  });

  it('nests (a checkpoint inside a checkpoint) and chains, gradients equal to plain autodiff', () => {
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 7);
    const chain = (useCheckpoint: boolean) => (a: tf.Tensor) => {
      let h = a;
      for (let i = 0; i < 4; i++) {
        const inner = (t: tf.Tensor) => tf.tanh(tf.mul(t, 1 + i / 4));
        const outer = (t: tf.Tensor) => tf.add(t, (useCheckpoint ? checkpoint(inner) : inner)(tf.square(t)));
        h = (useCheckpoint ? checkpoint(outer) : outer)(h);
      }
      return tf.sum(tf.mul(h, h));
    };
    const ours = tf.grad(chain(true))(x);
    const ref = tf.grad(chain(false))(x);
    expectClose(ours, ref, { atol: 1e-5, rtol: 1e-5 });
    tf.dispose([x, ours, ref]);
  });

  it('bounds the backward pass memory to one block (tfjs keeps every intermediate gradient otherwise)', () => {
    // 12 blocks, each making 16 intermediates of 64 KiB; the peak live bytes seen inside the
    // blocks during backward grows with depth without checkpoints and stays flat with them.
    const run = (useCheckpoint: boolean): number => {
      let peak = 0;
      const heavy = (t: tf.Tensor): tf.Tensor => {
        let h = t;
        for (let i = 0; i < 16; i++) h = tf.sin(tf.add(h, 0.01));
        peak = Math.max(peak, tf.memory().numBytes);
        return h;
      };
      const x = tf.randomNormal([128, 128], 0, 1, 'float32', 3);
      const before = tf.memory().numBytes;
      const g = tf.grad((a: tf.Tensor) => {
        let h = a;
        for (let layer = 0; layer < 12; layer++) h = (useCheckpoint ? checkpoint(heavy) : heavy)(h);
        return tf.sum(h);
      })(x);
      // read the peak also after the backward pass's own allocations
      peak = Math.max(peak, tf.memory().numBytes);
      tf.dispose([g, x]);
      return peak - before;
    };
    const plain = run(false);
    const checkpointed = run(true);
    // plain: ≥ 12 blocks × 16 activations of 64 KiB are alive at the end of the forward pass
    expect(plain).toBeGreaterThan(12 * 16 * 65536);
    expect(checkpointed).toBeLessThan(plain / 4);
  });
});
