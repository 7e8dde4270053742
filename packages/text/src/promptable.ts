import type * as tf from '@tensorflow/tfjs-core';
import type { TextEncoder } from '@lico/core';

/**
 * A {@link TextEncoder} that a prompt learner can drive below the text level: it exposes its
 * frozen token embeddings and runs its causal transformer on embeddings, optionally with a
 * prefix shared by many sequences (computed once). Implemented by the CLIP encoder and the
 * word-vector encoder of this package.
 */
export interface PromptableTextEncoder extends TextEncoder {
  /** Longest token sequence the encoder accepts, start and end tokens included. */
  readonly contextLength: number;
  /** Id of the start-of-text token. */
  readonly startTokenId: number;
  /** Id of the end-of-text token; the feature of a sequence is the output at this token. */
  readonly endTokenId: number;
  /** Token ids of `text` without start/end tokens; throws a clear error for text it cannot encode. */
  tokenizeText(text: string): number[];
  /** Frozen token embeddings of `ids`, `[n,E]` (a new tensor; the caller disposes it). */
  embedTokens(ids: readonly number[]): tf.Tensor2D;
  /**
   * Runs the transformer on token embeddings `[B,L,E]` (positions are added inside) and returns
   * the projected features `[B,D]` at `eotPositions[b]`. Differentiable w.r.t. `embeddings`.
   */
  encodeEmbeddings(embeddings: tf.Tensor3D, eotPositions: readonly number[]): tf.Tensor2D;
  /**
   * The same function for `G` groups of `B` sequences that share a prefix: `prefix [G,P,E]`,
   * `suffix [G,B,S,E]`; `eotPositions[b]` indexes the suffix. Returns `[G,B,D]`, equal to
   * {@link encodeEmbeddings} on the concatenations but with the prefix computed once per group.
   */
  encodeWithPrefix(prefix: tf.Tensor3D, suffix: tf.Tensor4D, eotPositions: readonly number[]): tf.Tensor3D;
  /** Encodes token ids `[B,L]` int32 (start/end included) to features `[B,D]`, pooled at the first end token. */
  encodeTokens(ids: tf.Tensor2D): tf.Tensor2D;
}
