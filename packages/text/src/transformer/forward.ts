import * as tf from '@tensorflow/tfjs-core';
import { selectRows } from '@lico/core';
import type { ClipTextConfig } from './config';
import { checkpoint } from './checkpoint';
import { frozenLinear2d, matMulAB, swapLast } from './matmul';
import { quickGelu } from './quick-gelu';
import type { ClipBlockWeights, ClipTextWeights } from './weights';

/**
 * The CLIP text transformer's forward pass on token embeddings: positional embedding, pre-LN
 * causal self-attention blocks with a quick-GELU MLP, final layer norm at the pooled positions,
 * projection. Two entry points compute the same function:
 *
 * - {@link runFull}: sequences `[B,L,E]` with a causal mask (the naive pass).
 * - {@link runPrefixed}: `G` groups that each share a prefix `[P,E]` followed by `B` suffixes
 *   `[S,E]`. Causal attention means a prefix position never sees what follows it, so the
 *   prefix's keys and values are computed once per group and every suffix attends to them.
 *
 * Outputs are taken at one position per sequence (the end-of-text token); positions after it
 * never influence it, so callers may cut the sequences right after the last end-of-text token.
 */

const NEG = -1e9;

function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** `x [..., in] @ w [in,out] + b` with frozen `w` (`wT` its transpose), for any leading shape. */
function linear(x: tf.Tensor, w: tf.Tensor2D, wT: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor {
  const lead = x.shape.slice(0, -1);
  const y = frozenLinear2d(tf.reshape(x, [-1, w.shape[0]]) as tf.Tensor2D, w, wT, b);
  return tf.reshape(y, [...lead, w.shape[1]]);
}

function activation(x: tf.Tensor, kind: ClipTextConfig['hiddenAct']): tf.Tensor {
  if (kind === 'quick_gelu') return quickGelu(x);
  // tanh approximation of GELU
  const c = Math.sqrt(2 / Math.PI);
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), c);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

function mlp(x: tf.Tensor, w: ClipBlockWeights, config: ClipTextConfig): tf.Tensor {
  const h = layerNorm(x, w.ln2Gamma, w.ln2Beta, config.layerNormEps);
  return tf.add(x, linear(activation(linear(h, w.fc1W, w.fc1WT, w.fc1B), config.hiddenAct), w.fc2W, w.fc2WT, w.fc2B));
}

/** The MLP half of a block as its own checkpointed op (halves the backward pass's peak memory). */
function checkpointedMlp(x: tf.Tensor, w: ClipBlockWeights, config: ClipTextConfig): tf.Tensor {
  return checkpoint((xi: tf.Tensor) => mlp(xi, w, config))(x);
}

/**
 * Causal mask `[L,L]`: 0 on and below the diagonal, -1e9 above (values cached per length; a new
 * tensor per call, because checkpointed blocks recompute after the caller's scope has ended).
 */
const maskCache = new Map<number, Float32Array>();
function causalMask(l: number): tf.Tensor2D {
  let m = maskCache.get(l);
  if (!m) {
    m = new Float32Array(l * l);
    for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) m[i * l + j] = NEG;
    maskCache.set(l, m);
  }
  return tf.tensor2d(m, [l, l]);
}

/**
 * Splits `[N,L,3E]` into q, k, v of shape `[N,h,L,dh]` (q pre-scaled by dh^-1/2). Every reshape,
 * transpose and slice here and below stays at rank ≤ 4: the wasm backend's rank-5 transpose and
 * slice are several times slower.
 */
function splitHeads(qkv: tf.Tensor, n: number, l: number, heads: number, dh: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const t = tf.transpose(tf.reshape(qkv, [n, l, 3 * heads, dh]), [0, 2, 1, 3]); // [N,3h,L,dh]
  const q = tf.slice(t, [0, 0, 0, 0], [n, heads, l, dh]);
  const k = tf.slice(t, [0, heads, 0, 0], [n, heads, l, dh]);
  const v = tf.slice(t, [0, 2 * heads, 0, 0], [n, heads, l, dh]);
  return [tf.mul(q, dh ** -0.5), k, v];
}

function mergeHeads(x: tf.Tensor, n: number, l: number, e: number): tf.Tensor {
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [n, l, e]);
}

/** Runs every block on full sequences `x [B,L,E]` (position embeddings already added). */
function blocksFull(x: tf.Tensor, weights: ClipTextWeights, config: ClipTextConfig): tf.Tensor {
  const [b, l, e] = x.shape as [number, number, number];
  const heads = config.heads;
  const dh = e / heads;
  for (const w of weights.blocks) {
    // attention and MLP as checkpointed ops: bounded memory in the backward pass (see checkpoint.ts)
    x = checkpoint((xi: tf.Tensor) => {
      const h = layerNorm(xi, w.ln1Gamma, w.ln1Beta, config.layerNormEps);
      const [q, k, v] = splitHeads(linear(h, w.qkvW, w.qkvWT, w.qkvB), b, l, heads, dh);
      const scores = tf.add(matMulAB(q, swapLast(k)), causalMask(l)); // [B,h,L,L]
      const att = mergeHeads(matMulAB(tf.softmax(scores), v), b, l, e);
      return tf.add(xi, linear(att, w.outW, w.outWT, w.outB));
    })(x);
    x = checkpointedMlp(x, w, config);
  }
  return x;
}

/** Final layer norm and projection of pooled hidden states `[N,E]` → `[N,D]`. */
function head(pooled: tf.Tensor, weights: ClipTextWeights, config: ClipTextConfig): tf.Tensor2D {
  const normed = layerNorm(pooled, weights.finalLnGamma, weights.finalLnBeta, config.layerNormEps);
  return (weights.projection ? frozenLinear2d(normed as tf.Tensor2D, weights.projection, weights.projectionT!, null) : normed) as tf.Tensor2D;
}

/** Gathers `x [B,L,E]` at one position per row → `[B,E]`. */
function gatherRows(x: tf.Tensor, positions: readonly number[]): tf.Tensor {
  const [b, l, e] = x.shape as [number, number, number];
  const flat = tf.reshape(x, [b * l, e]);
  return selectRows(flat, tf.tensor1d(positions.map((p, i) => i * l + p), 'int32'));
}

/**
 * The naive pass: `embeddings [B,L,E]` (token embeddings, without positions) → features `[B,D]`
 * at `eotPositions` (one per row).
 */
export function runFull(embeddings: tf.Tensor3D, eotPositions: readonly number[], weights: ClipTextWeights, config: ClipTextConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const l = embeddings.shape[1];
    const pos = tf.slice(weights.positionEmbedding, [0, 0], [l, -1]);
    const x = blocksFull(tf.add(embeddings, pos), weights, config);
    return head(gatherRows(x, eotPositions), weights, config);
  });
}

/**
 * The prefix-shared pass: `prefix [G,P,E]` shared by the `B` suffixes `suffix [G,B,S,E]` of its
 * group (token embeddings without positions; the suffix starts at position `P`). Returns the
 * features `[G,B,D]` at `eotPositions[b]`, an index into the suffix. Equal to {@link runFull} on
 * the concatenated sequences.
 */
export function runPrefixed(
  prefix: tf.Tensor3D,
  suffix: tf.Tensor4D,
  eotPositions: readonly number[],
  weights: ClipTextWeights,
  config: ClipTextConfig,
): tf.Tensor3D {
  return tf.tidy(() => {
    const [g, p, e] = prefix.shape;
    const [, b, s] = suffix.shape;
    const heads = config.heads;
    const dh = e / heads;
    let xp: tf.Tensor = tf.add(prefix, tf.slice(weights.positionEmbedding, [0, 0], [p, -1])); // [G,P,E]
    let xs: tf.Tensor = tf.reshape(tf.add(suffix, tf.slice(weights.positionEmbedding, [p, 0], [s, -1])), [g * b, s, e]);
    weights.blocks.forEach((w, layer) => {
      // Attention and MLP are checkpointed ops (bounded backward memory, see checkpoint.ts). The suffix
      // block recomputes the prefix's keys and values (G·P tokens, small next to G·B·S).
      const prefixKv = (xpi: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] => {
        const hp = layerNorm(xpi, w.ln1Gamma, w.ln1Beta, config.layerNormEps);
        return splitHeads(linear(hp, w.qkvW, w.qkvWT, w.qkvB), g, p, heads, dh); // [G,h,P,dh]
      };
      const xsNext = checkpoint((xsi: tf.Tensor, xpi: tf.Tensor) => {
        const [, kp, vp] = prefixKv(xpi);
        // suffix: attends to the whole prefix and causally to itself
        const hs = layerNorm(xsi, w.ln1Gamma, w.ln1Beta, config.layerNormEps);
        const [qs, ks, vs] = splitHeads(linear(hs, w.qkvW, w.qkvWT, w.qkvB), g * b, s, heads, dh); // [G*B,h,S,dh]
        // scores against the prefix: q [G*B,h,S,dh] as [G,h,B*S,dh] times kp [G,h,P,dh]^T
        const qg = tf.reshape(tf.transpose(tf.reshape(qs, [g, b, heads, s * dh]), [0, 2, 1, 3]), [g, heads, b * s, dh]);
        const sp = tf.transpose(tf.reshape(matMulAB(qg, swapLast(kp)), [g, heads, b, s * p]), [0, 2, 1, 3]); // [G,B,h,S*P]
        const ss = tf.add(matMulAB(qs, swapLast(ks)), causalMask(s)); // [G*B,h,S,S]
        const probs = tf.softmax(tf.concat([tf.reshape(sp, [g * b, heads, s, p]), ss], 3)); // [G*B,h,S,P+S]
        const pp = tf.slice(probs, [0, 0, 0, 0], [-1, -1, -1, p]);
        const ps = tf.slice(probs, [0, 0, 0, p], [-1, -1, -1, s]);
        const ppg = tf.reshape(tf.transpose(tf.reshape(pp, [g, b, heads, s * p]), [0, 2, 1, 3]), [g, heads, b * s, p]);
        const fromPrefix = matMulAB(ppg, vp); // [G,h,B*S,dh]
        const fromPrefixB = tf.reshape(tf.transpose(tf.reshape(fromPrefix, [g, heads, b, s * dh]), [0, 2, 1, 3]), [g * b, heads, s, dh]);
        const attS = tf.add(fromPrefixB, matMulAB(ps, vs));
        return tf.add(xsi, linear(mergeHeads(attS, g * b, s, e), w.outW, w.outWT, w.outB));
      })(xs, xp);
      if (layer < weights.blocks.length - 1) {
        // the prefix's own outputs are only needed as keys/values of the next block
        xp = checkpoint((xpi: tf.Tensor) => {
          const [qp, kp, vp] = prefixKv(xpi);
          const attP = matMulAB(tf.softmax(tf.add(matMulAB(qp, swapLast(kp)), causalMask(p))), vp);
          return tf.add(xpi, linear(mergeHeads(attP, g, p, e), w.outW, w.outWT, w.outB));
        })(xp);
        xp = checkpointedMlp(xp, w, config);
      }
      xs = checkpointedMlp(xsNext, w, config);
    });
    const positions: number[] = [];
    for (let gi = 0; gi < g; gi++) for (const pos of eotPositions) positions.push(pos);
    const out = head(gatherRows(xs, positions), weights, config);
    return tf.reshape(out, [g, b, out.shape[1]]) as tf.Tensor3D;
  });
}
