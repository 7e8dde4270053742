import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, SPECIFICATION_VERSION, assertDType, assertRank, formatShape } from '@lico/core';
import type { PromptableTextEncoder } from '../promptable';
import type { ClipTextConfig } from './config';
import { runFull, runPrefixed } from './forward';
import { type ClipTextWeights, disposeClipTextWeights } from './weights';

/** What turns text into token ids for a {@link createTransformerEncoder}. */
export interface TextTokenizerFns {
  /** Ids without special tokens. */
  readonly encode: (text: string) => number[];
}

/**
 * Wraps frozen CLIP-shaped weights and a tokenizer as a {@link PromptableTextEncoder}. Shared by
 * the CLIP encoder and the word-vector encoder.
 */
export function createTransformerEncoder(name: string, config: ClipTextConfig, weights: ClipTextWeights, tokenizer: TextTokenizerFns): PromptableTextEncoder {
  let disposed = false;
  const check = (): void => {
    if (disposed) throw new ConfigError(`text encoder '${name}' has been disposed.`);
  };
  const width = config.width;
  const outputDim = config.projectionDim ?? width;
  const checkEmbeddings = (x: tf.Tensor, what: string, rank: number): void => {
    assertRank(x, rank, what);
    assertDType(x, 'float32', what);
    if (x.shape[rank - 1] !== width) throw new ShapeError(`${what} must have last dimension ${width} (the embedding width), got ${formatShape(x.shape)}.`);
  };
  const checkPositions = (positions: readonly number[], rows: number, len: number, what: string): void => {
    if (positions.length !== rows) throw new ShapeError(`eotPositions must have one entry per sequence (${rows}), got ${positions.length}.`);
    for (const p of positions) {
      if (!Number.isInteger(p) || p < 0 || p >= len) throw new ShapeError(`eotPositions entries must be integers in [0, ${len}) (${what}), got ${p}.`);
    }
  };
  const encoder: PromptableTextEncoder = {
    specificationVersion: SPECIFICATION_VERSION,
    name,
    embeddingDim: width,
    outputDim,
    contextLength: config.contextLength,
    startTokenId: config.bosTokenId,
    endTokenId: config.eosTokenId,
    tokenizeText(text) {
      return tokenizer.encode(text);
    },
    embedTokens(ids) {
      check();
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) throw new ConfigError(`token id ${id} is outside the vocabulary [0, ${config.vocabSize}) of '${name}'.`);
      }
      return tf.tidy(() => tf.gather(weights.tokenEmbedding, tf.tensor1d(ids as number[], 'int32')));
    },
    encodeEmbeddings(embeddings, eotPositions) {
      check();
      checkEmbeddings(embeddings, 'embeddings', 3);
      const [b, l] = embeddings.shape;
      if (l > config.contextLength) throw new ShapeError(`embeddings hold ${l} positions, more than the context length ${config.contextLength} of '${name}'.`);
      checkPositions(eotPositions, b, l, 'sequence length');
      return runFull(embeddings, eotPositions, weights, config);
    },
    encodeWithPrefix(prefix, suffix, eotPositions) {
      check();
      checkEmbeddings(prefix, 'prefix', 3);
      checkEmbeddings(suffix, 'suffix', 4);
      if (prefix.shape[0] !== suffix.shape[0]) throw new ShapeError(`prefix ${formatShape(prefix.shape)} and suffix ${formatShape(suffix.shape)} must have the same number of groups.`);
      const total = prefix.shape[1] + suffix.shape[2];
      if (total > config.contextLength) throw new ShapeError(`prefix (${prefix.shape[1]}) + suffix (${suffix.shape[2]}) positions exceed the context length ${config.contextLength} of '${name}'.`);
      checkPositions(eotPositions, suffix.shape[1], suffix.shape[2], 'suffix length');
      return runPrefixed(prefix, suffix, eotPositions, weights, config);
    },
    encodeTokens(ids) {
      check();
      assertRank(ids, 2, 'ids');
      if (ids.dtype !== 'int32') throw new DTypeError(`ids must have dtype int32, got ${ids.dtype}.`);
      const [b, l] = ids.shape;
      if (l > config.contextLength) throw new ShapeError(`ids ${formatShape(ids.shape)} are longer than the context length ${config.contextLength} of '${name}'.`);
      const data = ids.dataSync();
      const positions: number[] = [];
      let maxPos = 0;
      for (let i = 0; i < b; i++) {
        let pos = -1;
        for (let j = 0; j < l; j++) {
          const id = data[i * l + j]!;
          if (id < 0 || id >= config.vocabSize) throw new ConfigError(`ids[${i},${j}] = ${id} is outside the vocabulary [0, ${config.vocabSize}) of '${name}'.`);
          if (pos < 0 && id === config.eosTokenId) pos = j;
        }
        if (pos < 0) throw new ConfigError(`ids row ${i} holds no end-of-text token (${config.eosTokenId}); tokenize with start/end tokens.`);
        positions.push(pos);
        maxPos = Math.max(maxPos, pos);
      }
      // Positions after the last end-of-text token cannot affect any pooled output (causal mask).
      return tf.tidy(() => {
        const cut = tf.slice(ids, [0, 0], [b, maxPos + 1]);
        const emb = tf.reshape(tf.gather(weights.tokenEmbedding, tf.reshape(cut, [-1])), [b, maxPos + 1, width]) as tf.Tensor3D;
        return runFull(emb, positions, weights, config);
      });
    },
    encodeTexts(texts) {
      check();
      const rows = texts.map((t) => {
        const ids = tokenizer.encode(t);
        if (ids.length + 2 > config.contextLength) {
          throw new ConfigError(`text ${JSON.stringify(t.length > 60 ? `${t.slice(0, 60)}…` : t)} needs ${ids.length + 2} tokens with start/end, more than the context length ${config.contextLength} of '${name}'.`);
        }
        return [config.bosTokenId, ...ids, config.eosTokenId];
      });
      const len = Math.max(1, ...rows.map((r) => r.length));
      const flat = new Int32Array(rows.length * len);
      rows.forEach((r, i) => flat.set(r, i * len));
      return tf.tidy(() => {
        const ids = tf.tensor2d(flat, [rows.length, len], 'int32');
        return encoder.encodeTokens(ids);
      });
    },
    dispose() {
      if (!disposed) disposeClipTextWeights(weights);
      disposed = true;
    },
  };
  return encoder;
}
