import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@lico/core';
import type { ClipTextConfig } from './config';

/** One transformer block's frozen weights; linear weights are stored `[in,out]` (transposed from PyTorch). */
export interface ClipBlockWeights {
  readonly ln1Gamma: tf.Tensor1D;
  readonly ln1Beta: tf.Tensor1D;
  /** Fused q/k/v projection `[E,3E]` and bias `[3E]` (q first). */
  readonly qkvW: tf.Tensor2D;
  /** `qkvW` transposed, `[3E,E]` (and likewise every `…WT`): backward passes use it. */
  readonly qkvWT: tf.Tensor2D;
  readonly qkvB: tf.Tensor1D;
  readonly outW: tf.Tensor2D;
  readonly outWT: tf.Tensor2D;
  readonly outB: tf.Tensor1D;
  readonly ln2Gamma: tf.Tensor1D;
  readonly ln2Beta: tf.Tensor1D;
  readonly fc1W: tf.Tensor2D;
  readonly fc1WT: tf.Tensor2D;
  readonly fc1B: tf.Tensor1D;
  readonly fc2W: tf.Tensor2D;
  readonly fc2WT: tf.Tensor2D;
  readonly fc2B: tf.Tensor1D;
}

/** All frozen weights of a CLIP text transformer (plain tensors, never variables). */
export interface ClipTextWeights {
  readonly tokenEmbedding: tf.Tensor2D;
  readonly positionEmbedding: tf.Tensor2D;
  readonly blocks: readonly ClipBlockWeights[];
  readonly finalLnGamma: tf.Tensor1D;
  readonly finalLnBeta: tf.Tensor1D;
  /** `[E,D]`, or `null` for no projection. */
  readonly projection: tf.Tensor2D | null;
  /** `projection` transposed, `[D,E]`. */
  readonly projectionT: tf.Tensor2D | null;
}

/** Hugging Face key names of the text weights (`CLIPModel` / `CLIPTextModelWithProjection`). */
export function hfClipTextKeys(config: ClipTextConfig, withProjection: boolean): string[] {
  const keys = [
    'text_model.embeddings.token_embedding.weight',
    'text_model.embeddings.position_embedding.weight',
    'text_model.final_layer_norm.weight',
    'text_model.final_layer_norm.bias',
  ];
  for (let i = 0; i < config.layers; i++) {
    const p = `text_model.encoder.layers.${i}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) keys.push(`${p}.self_attn.${n}.weight`, `${p}.self_attn.${n}.bias`);
    for (const n of ['layer_norm1', 'layer_norm2', 'mlp.fc1', 'mlp.fc2']) keys.push(`${p}.${n}.weight`, `${p}.${n}.bias`);
  }
  if (withProjection) keys.push('text_projection.weight');
  return keys;
}

/** Expected PyTorch shape of each Hugging Face key. */
export function hfClipTextShapes(config: ClipTextConfig): Map<string, number[]> {
  const { width: e, intermediateSize: i4, vocabSize, contextLength } = config;
  const shapes = new Map<string, number[]>();
  shapes.set('text_model.embeddings.token_embedding.weight', [vocabSize, e]);
  shapes.set('text_model.embeddings.position_embedding.weight', [contextLength, e]);
  shapes.set('text_model.final_layer_norm.weight', [e]);
  shapes.set('text_model.final_layer_norm.bias', [e]);
  for (let i = 0; i < config.layers; i++) {
    const p = `text_model.encoder.layers.${i}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      shapes.set(`${p}.self_attn.${n}.weight`, [e, e]);
      shapes.set(`${p}.self_attn.${n}.bias`, [e]);
    }
    for (const n of ['layer_norm1', 'layer_norm2']) {
      shapes.set(`${p}.${n}.weight`, [e]);
      shapes.set(`${p}.${n}.bias`, [e]);
    }
    shapes.set(`${p}.mlp.fc1.weight`, [i4, e]);
    shapes.set(`${p}.mlp.fc1.bias`, [i4]);
    shapes.set(`${p}.mlp.fc2.weight`, [e, i4]);
    shapes.set(`${p}.mlp.fc2.bias`, [e]);
  }
  if (config.projectionDim !== null) shapes.set('text_projection.weight', [config.projectionDim, e]);
  return shapes;
}

/** Builds the weights from arrays in Hugging Face layout (PyTorch `[out,in]` linear weights). */
export function clipTextWeightsFromHf(config: ClipTextConfig, get: (key: string) => Float32Array): ClipTextWeights {
  const { width: e, intermediateSize: i4 } = config;
  return tf.tidy(() => {
    const vec = (key: string): tf.Tensor1D => tf.tensor1d(get(key));
    // PyTorch Linear weight [out,in] -> [in,out]
    const lin = (key: string, out: number, inp: number): tf.Tensor2D => tf.transpose(tf.tensor2d(get(key), [out, inp]));
    const blocks: ClipBlockWeights[] = [];
    for (let i = 0; i < config.layers; i++) {
      const p = `text_model.encoder.layers.${i}`;
      const qkvW = tf.concat([lin(`${p}.self_attn.q_proj.weight`, e, e), lin(`${p}.self_attn.k_proj.weight`, e, e), lin(`${p}.self_attn.v_proj.weight`, e, e)], 1);
      const outW = lin(`${p}.self_attn.out_proj.weight`, e, e);
      const fc1W = lin(`${p}.mlp.fc1.weight`, i4, e);
      const fc2W = lin(`${p}.mlp.fc2.weight`, e, i4);
      blocks.push({
        ln1Gamma: vec(`${p}.layer_norm1.weight`),
        ln1Beta: vec(`${p}.layer_norm1.bias`),
        qkvW,
        qkvWT: tf.transpose(qkvW),
        qkvB: tf.concat([vec(`${p}.self_attn.q_proj.bias`), vec(`${p}.self_attn.k_proj.bias`), vec(`${p}.self_attn.v_proj.bias`)]),
        outW,
        outWT: tf.transpose(outW),
        outB: vec(`${p}.self_attn.out_proj.bias`),
        ln2Gamma: vec(`${p}.layer_norm2.weight`),
        ln2Beta: vec(`${p}.layer_norm2.bias`),
        fc1W,
        fc1WT: tf.transpose(fc1W),
        fc1B: vec(`${p}.mlp.fc1.bias`),
        fc2W,
        fc2WT: tf.transpose(fc2W),
        fc2B: vec(`${p}.mlp.fc2.bias`),
      });
    }
    const weights: ClipTextWeights = {
      tokenEmbedding: tf.tensor2d(get('text_model.embeddings.token_embedding.weight'), [config.vocabSize, e]),
      positionEmbedding: tf.tensor2d(get('text_model.embeddings.position_embedding.weight'), [config.contextLength, e]),
      blocks,
      finalLnGamma: vec('text_model.final_layer_norm.weight'),
      finalLnBeta: vec('text_model.final_layer_norm.bias'),
      projection: config.projectionDim === null ? null : lin('text_projection.weight', config.projectionDim, e),
      projectionT: config.projectionDim === null ? null : tf.tensor2d(get('text_projection.weight'), [config.projectionDim, e]),
    };
    return weights as unknown as tf.TensorContainer;
  }) as unknown as ClipTextWeights;
}

/**
 * Random weights in Hugging Face layout, initialised as `CLIPTextModel._init_weights` does
 * (normal token std 0.02, position std 0.01, attention/MLP std scaled by width and depth,
 * layer norms at identity), from a seed.
 */
export function randomHfClipTextArrays(config: ClipTextConfig, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const shapes = hfClipTextShapes(config);
  const out = new Map<string, Float32Array>();
  const e = config.width;
  const inStd = e ** -0.5 * (2 * config.layers) ** -0.5;
  const outStd = e ** -0.5 * (2 * config.layers) ** -0.5;
  const attnStd = e ** -0.5;
  const fcStd = (2 * e) ** -0.5;
  for (const [key, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const arr = new Float32Array(n);
    let std = 0;
    if (key.endsWith('layer_norm1.weight') || key.endsWith('layer_norm2.weight') || key === 'text_model.final_layer_norm.weight') arr.fill(1);
    else if (key.endsWith('.bias')) std = 0;
    else if (key.includes('token_embedding')) std = 0.02;
    else if (key.includes('position_embedding')) std = 0.01;
    else if (key.includes('out_proj')) std = outStd;
    else if (key.includes('_proj.weight') && key.includes('self_attn')) std = attnStd;
    else if (key.includes('fc1')) std = fcStd;
    else if (key.includes('fc2')) std = inStd;
    else if (key === 'text_projection.weight') std = e ** -0.5;
    if (std > 0) fillNormal(arr, std, rng.seed32());
    out.set(key, arr);
  }
  return out;
}

/**
 * Fills `arr` with normal draws of standard deviation `std` from a seeded xorshift128 generator and
 * Box–Muller pairs: a fast bulk generator for large random weights (CLIP's 25M-entry token table).
 */
export function fillNormal(arr: Float32Array, std: number, seed: number): void {
  let x = seed >>> 0 || 1;
  let y = 362436069;
  let z = 521288629;
  let w = 88675123;
  const next = (): number => {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return (w + 0.5) / 4294967296;
  };
  for (let i = 0; i < arr.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())) * std;
    const theta = 2 * Math.PI * next();
    arr[i] = r * Math.cos(theta);
    if (i + 1 < arr.length) arr[i + 1] = r * Math.sin(theta);
  }
}

/** Disposes every tensor of the weights. */
export function disposeClipTextWeights(w: ClipTextWeights): void {
  tf.dispose([w.tokenEmbedding, w.positionEmbedding, w.finalLnGamma, w.finalLnBeta]);
  if (w.projection) w.projection.dispose();
  if (w.projectionT) w.projectionT.dispose();
  for (const b of w.blocks) tf.dispose(Object.values(b) as tf.Tensor[]);
}
