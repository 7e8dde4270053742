import * as tf from '@tensorflow/tfjs-core';
import { formatShape } from '../assert';
import { ShapeError } from '../errors';

/**
 * Rows of `x` `[K,...]` picked by `indices` `[N]` (int32): `[N,...]`, as `tf.gather(x, indices)`.
 * The forward pass is `gather`; the gradient is `oneHot(indices, K)ᵀ · dy` (a matMul), not
 * `UnsortedSegmentSum` — a kernel that stock `@tensorflow/tfjs-backend-wasm` lacks, so a user's
 * `optimizer.minimize` on that backend would fail in the backward pass.
 */
export function selectRows<T extends tf.Tensor>(x: T, indices: tf.Tensor1D): T {
  if (x.rank < 1) throw new ShapeError(`selectRows: x ${formatShape(x.shape)} must have rank >= 1.`);
  if (indices.rank !== 1 || indices.dtype !== 'int32') {
    throw new ShapeError(`selectRows: indices ${formatShape(indices.shape)} (${indices.dtype}) must be int32 [N].`);
  }
  const k = x.shape[0]!;
  const rest = x.shape.slice(1);
  const width = rest.reduce((a, b) => a * b, 1);
  // The indices are saved with the op (callers may dispose theirs before the backward pass).
  const op = tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([indices]);
    return {
      value: tf.gather(input as tf.Tensor, indices),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          // int32 one-hot, then cast: stock tfjs-backend-wasm's OneHot ignores a float32 dtype (it writes int bits).
          const onehot = tf.cast(tf.oneHot(saved[0] as tf.Tensor1D, k), 'float32'); // [N,K]
          const flat = tf.matMul(onehot, tf.reshape(dy, [indices.shape[0], width]), true, false); // [K,R]
          return tf.reshape(flat, [k, ...rest]);
        }),
    };
  });
  return op(x) as T;
}
