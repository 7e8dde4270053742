import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient checkpointing: `checkpoint(fn)` computes the same values as `fn`, but as a single op on
 * the caller's gradient tape. Its forward pass records nothing inside `fn` (tfjs records no tape
 * inside a custom-gradient op) and saves only the inputs; its backward pass recomputes `fn` under a
 * nested tape, takes the vector-Jacobian product with the incoming gradient and frees every
 * intermediate before returning.
 *
 * Why it matters on tfjs: the engine's backward pass keeps the gradient of every intermediate
 * tensor until the whole pass ends (it never frees a node's output gradients early), so a
 * 12-block transformer holds about as many bytes of gradients as of forward activations at once.
 * Wrapping each block bounds that to one block, at the cost of one more forward of the block.
 *
 * `fn` must be a pure, deterministic function of its tensor arguments (no random ops: the backward
 * pass recomputes it) and must return one tensor; tensors it captures, such as frozen weights, must
 * outlive the backward pass. Every argument receives a gradient.
 */
export function checkpoint<A extends tf.Tensor[]>(fn: (...args: A) => tf.Tensor): (...args: A) => tf.Tensor {
  const op = tf.customGrad(((...raw: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = raw[raw.length - 1] as tf.GradSaveFunc;
    const inputs = raw.slice(0, -1) as A;
    save(inputs);
    return {
      value: fn(...inputs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => vjp(fn as (...a: tf.Tensor[]) => tf.Tensor, saved, dy),
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return (...args: A) => op(...args) as tf.Tensor;
}

/**
 * `dy · ∂fn/∂inputs` by a nested `tf.grads`, usable inside a backward pass. At gradient depth 0
 * (which is where a custom gradient runs) tfjs would replace the active tape with a fresh one and
 * null it afterwards, although the outer pass still has to free the tensors its tape saved; the
 * outer tape is therefore set aside and restored.
 */
export function vjp(fn: (...a: tf.Tensor[]) => tf.Tensor, inputs: readonly tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const state = tf.engine().state;
  const outerTape = state.activeTape;
  try {
    return tf.grads((...a: tf.Tensor[]) => fn(...a))([...inputs], dy);
  } finally {
    state.activeTape = outerTape;
  }
}
