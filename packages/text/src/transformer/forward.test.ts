import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClipTextEncoder } from '../clip-encoder';
import type { ClipTextConfig } from './config';

const config: ClipTextConfig = {
  vocabSize: 50,
  width: 16,
  layers: 2,
  heads: 4,
  intermediateSize: 32,
  contextLength: 20,
  projectionDim: 8,
  layerNormEps: 1e-5,
  hiddenAct: 'quick_gelu',
  bosTokenId: 48,
  eosTokenId: 49,
};

beforeAll(useCpuBackend);

describe('CLIP text transformer', () => {
  it('cutting after the last end token equals the full-length pass', async () => {
    const enc = createClipTextEncoder(config, 3);
    const rows = [
      [48, 5, 6, 7, 49, 0, 0, 0],
      [48, 9, 49, 0, 0, 0, 0, 0],
    ];
    const full = rows.map((r) => [...r, ...new Array(config.contextLength - r.length).fill(3)]);
    await expectNoLeaks(() => tf.tidy(() => {
      const a = enc.encodeTokens(tf.tensor2d(rows, undefined, 'int32'));
      const b = enc.encodeTokens(tf.tensor2d(full, undefined, 'int32'));
      // padding after the end token is different (3 vs 0): it must not matter
      expect(a.shape).toEqual([2, 8]);
      expectClose(a, b, { atol: 1e-6, rtol: 1e-5 });
      const emb = tf.reshape(enc.embedTokens(full.flat()), [2, config.contextLength, 16]) as tf.Tensor3D;
      const c = enc.encodeEmbeddings(emb, [4, 2]);
      expectClose(c, a, { atol: 1e-6, rtol: 1e-5 });
    }));
    enc.dispose();
  });

  it('the shared-prefix pass equals the full pass, values and gradients', async () => {
    const enc = createClipTextEncoder(config, 4);
    const g = 3;
    const b = 4;
    const p = 5;
    const s = 6;
    const prefix = tf.randomNormal([g, p, 16], 0, 0.5, 'float32', 1) as tf.Tensor3D;
    const suffix = tf.randomNormal([g, b, s, 16], 0, 0.5, 'float32', 2) as tf.Tensor4D;
    const eot = [5, 1, 3, 0];
    const weights = tf.randomNormal([g, b, 8], 0, 1, 'float32', 3);
    const viaPrefix = (pre: tf.Tensor, suf: tf.Tensor): tf.Scalar => tf.sum(tf.mul(enc.encodeWithPrefix(pre as tf.Tensor3D, suf as tf.Tensor4D, eot), weights));
    const viaFull = (pre: tf.Tensor, suf: tf.Tensor): tf.Scalar => {
      const seqs = tf.concat([tf.tile(tf.expandDims(pre, 1), [1, b, 1, 1]), suf], 2);
      const flat = tf.reshape(seqs, [g * b, p + s, 16]) as tf.Tensor3D;
      const out = enc.encodeEmbeddings(flat, Array.from({ length: g * b }, (_, i) => p + eot[i % b]!));
      return tf.sum(tf.mul(tf.reshape(out, [g, b, 8]), weights));
    };
    await expectNoLeaks(() => tf.tidy(() => {
      const fa = tf.tidy(() => enc.encodeWithPrefix(prefix, suffix, eot));
      expect(fa.shape).toEqual([g, b, 8]);
      const ga = tf.grads(viaPrefix)([prefix, suffix]);
      const gb = tf.grads(viaFull)([prefix, suffix]);
      expectClose(viaPrefix(prefix, suffix), viaFull(prefix, suffix), { atol: 1e-5, rtol: 1e-5 });
      expectClose(ga[0]!, gb[0]!, { atol: 1e-6, rtol: 1e-4 });
      expectClose(ga[1]!, gb[1]!, { atol: 1e-6, rtol: 1e-4 });
      // the prefix gradient is not trivially zero
      expect(tf.max(tf.abs(ga[0]!)).dataSync()[0]).toBeGreaterThan(1e-4);
    }));
    tf.dispose([prefix, suffix, weights]);
    enc.dispose();
  });

  it('rejects bad inputs with clear errors', () => {
    const enc = createClipTextEncoder(config, 5);
    expect(() => enc.encodeTokens(tf.tensor2d([[48, 5, 6]], undefined, 'int32'))).toThrow(/no end-of-text token/);
    expect(() => enc.encodeTokens(tf.tensor2d([[48, 5, 60, 49]], undefined, 'int32'))).toThrow(/outside the vocabulary/);
    expect(() => enc.encodeTokens(tf.tensor2d([[48, 5]], undefined, 'float32') as tf.Tensor2D)).toThrow(/int32/);
    expect(() => enc.encodeTokens(tf.zeros([1, 21], 'int32') as tf.Tensor2D)).toThrow(/context length 20/);
    expect(() => enc.encodeEmbeddings(tf.zeros([2, 4, 15]) as tf.Tensor3D, [1, 1])).toThrow(/last dimension 16/);
    expect(() => enc.encodeEmbeddings(tf.zeros([2, 4, 16]) as tf.Tensor3D, [1, 4])).toThrow(/eotPositions/);
    expect(() => createClipTextEncoder({ ...config, heads: 3 })).toThrow(/must divide width/);
    enc.dispose();
    expect(() => enc.encodeTexts(['a'])).toThrow(/disposed/);
  });
});
