import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ForwardOptions, type PromptFeatures, type PromptLearner, SPECIFICATION_VERSION, assertOneOf, assertPositive, assertPositiveInteger, createRng, selectRows } from '@lico/core';
import type { PromptableTextEncoder } from '../promptable';
import { vjp } from '../transformer/checkpoint';

/** How the `M` prompt variants of a class are built from its context vectors. */
export type PromptVariants = 'rotate' | 'shift-one';
/** Where the class name sits among the context vectors. */
export type ClassTokenPosition = 'end' | 'front' | 'middle';
/** How the encoder is run: shared prefix (fast, default), cut after the last end token, or the full context length (naive). */
export type PromptPass = 'shared-prefix' | 'truncated' | 'full';

/** Options of {@link createPromptLearner}. */
export interface PromptLearnerOptions {
  /** The frozen encoder (not owned: `dispose()` leaves it alone). */
  readonly encoder: PromptableTextEncoder;
  /** Class names in label order. */
  readonly classNames: readonly string[];
  /** Number of learnable context vectors (default 12). */
  readonly numContext?: number;
  /** Number of variants `M` per class (default `numContext`); at most `numContext` for `'rotate'`. */
  readonly numVariants?: number;
  /**
   * `'rotate'` (default): variant `r` uses the context vectors rolled by `r` positions
   * (`roll(ctx, r)`), the `M` rotations of one context. `'shift-one'`: every variant uses
   * `roll(ctx, 1)`, as the authors' corrected code does, so all variants are identical.
   */
  readonly variants?: PromptVariants;
  /** Class token at the `'end'` (default), `'front'` or `'middle'` of the context. */
  readonly classTokenPosition?: ClassTokenPosition;
  /** One set of context vectors per class instead of one shared set (default false). */
  readonly classSpecificContext?: boolean;
  /** Standard deviation of the context vectors' normal initialisation (default 0.02). */
  readonly contextStd?: number;
  /** Text after the class name (default `'.'`). */
  readonly suffix?: string;
  /** How the encoder is run (default `'shared-prefix'`); all three give the same values. */
  readonly pass?: PromptPass;
  /** Seed of the context initialisation (default 0). */
  readonly seed?: number;
  /**
   * Classes encoded per chunk (default: all in one). With smaller chunks the forward pass keeps
   * no activations and the backward pass recomputes each chunk in turn (gradient checkpointing),
   * which bounds the backward pass's activation memory at the cost of one extra forward. Values
   * and gradients equal the unchunked pass. The CLIP encoder already checkpoints each attention
   * and MLP half-block, so a ViT-B/32-sized text encoder with 12 variants encodes K = 100 classes
   * in one chunk within tfjs-wasm's 4 GiB heap (peak heap ≈ 2.8 GiB); chunks are for more classes.
   */
  readonly classChunkSize?: number;
}

/** A {@link PromptLearner} with the details of its token layout. */
export interface LicoPromptLearner extends PromptLearner {
  /** The learnable context vectors, `[numContext,E]` or `[K,numContext,E]` when class-specific. */
  readonly context: tf.Variable;
  /** Length (start/end included) of each class's prompt. */
  readonly promptLengths: readonly number[];
  /** Length of the prefix all prompts of a variant share (start token + leading context). */
  readonly sharedPrefixLength: number;
}

/**
 * CoOp-style learnable prompts for LICO: `[SOS] X1 … XM <class> . [EOT]`, with `M` variants per
 * class (rotations of the context). `encode()` returns `promptFeatures [M,K,D]` and
 * `classFeatures [K,D]` (variant 0), differentiable with respect to the context vectors only;
 * the encoder's weights are frozen tensors, never variables. The `training` flag changes nothing
 * (the text side has no dropout or batch statistics).
 *
 * Speed: the encoder is causal, so it runs only up to the last end-of-text token, and the prefix
 * shared by all classes of a variant (start token + context) is computed once per variant.
 */
export function createPromptLearner(options: PromptLearnerOptions): LicoPromptLearner {
  const { encoder } = options;
  if (!encoder || typeof encoder.encodeWithPrefix !== 'function') {
    throw new ConfigError('createPromptLearner needs a PromptableTextEncoder (createWordVectorEncoder, loadClipTextEncoder or createClipTextEncoder).');
  }
  const classNames = [...(options.classNames ?? [])];
  if (classNames.length === 0) throw new ConfigError('createPromptLearner needs at least one class name.');
  const numContext = options.numContext ?? 12;
  assertPositiveInteger(numContext, 'numContext');
  const numVariants = options.numVariants ?? numContext;
  assertPositiveInteger(numVariants, 'numVariants');
  const variants = assertOneOf(options.variants ?? 'rotate', ['rotate', 'shift-one'] as const, 'prompt variants mode');
  if (variants === 'rotate' && numVariants > numContext) {
    throw new ConfigError(`numVariants (${numVariants}) must not exceed numContext (${numContext}) with 'rotate' variants: there are only ${numContext} distinct rotations.`);
  }
  const position = assertOneOf(options.classTokenPosition ?? 'end', ['end', 'front', 'middle'] as const, 'class token position');
  const pass = assertOneOf(options.pass ?? 'shared-prefix', ['shared-prefix', 'truncated', 'full'] as const, 'prompt pass');
  const classSpecific = options.classSpecificContext ?? false;
  const contextStd = options.contextStd ?? 0.02;
  assertPositive(contextStd, 'contextStd');
  const seed = options.seed ?? 0;
  const k = classNames.length;
  const e = encoder.embeddingDim;

  // ---- token layout
  const suffixIds = encoder.tokenizeText(options.suffix ?? '.');
  const classIds = classNames.map((name, i) => {
    if (typeof name !== 'string' || name.trim() === '') throw new ConfigError(`class name ${i} is empty; every class needs a name for its prompt.`);
    const ids = encoder.tokenizeText(name);
    if (ids.length === 0) throw new ConfigError(`class name ${i} (${JSON.stringify(name)}) gives no tokens.`);
    return ids;
  });
  type Slot = { readonly ctx: number } | { readonly token: number };
  const layouts: Slot[][] = classIds.map((ids, ci) => {
    const ctx = (from: number, to: number): Slot[] => Array.from({ length: to - from }, (_, j) => ({ ctx: from + j }));
    const cls = ids.map((id) => ({ token: id }));
    const half = Math.floor(numContext / 2);
    const body = position === 'end' ? [...ctx(0, numContext), ...cls] : position === 'front' ? [...cls, ...ctx(0, numContext)] : [...ctx(0, half), ...cls, ...ctx(half, numContext)];
    const slots: Slot[] = [{ token: encoder.startTokenId }, ...body, ...suffixIds.map((id) => ({ token: id })), { token: encoder.endTokenId }];
    if (slots.length > encoder.contextLength) {
      throw new ConfigError(
        `the prompt of class ${ci} (${JSON.stringify(classNames[ci])}) needs ${slots.length} tokens (start + ${numContext} context + ${ids.length} class + ${suffixIds.length} suffix + end), more than the context length ${encoder.contextLength} of '${encoder.name}'. Shorten the class name or use fewer context vectors.`,
      );
    }
    return slots;
  });
  const lengths = layouts.map((l) => l.length);
  const maxLen = Math.max(...lengths);
  const tokenList = [...new Set(layouts.flatMap((l) => l.flatMap((s) => ('token' in s ? [s.token] : []))))];
  const tokenRow = new Map(tokenList.map((id, i) => [id, i]));
  const ctxRows = classSpecific ? k * numContext : numContext;
  const shiftOf = (r: number): number => (variants === 'rotate' ? r : 1);
  const rowOf = (slot: Slot, variant: number, ci: number): number => {
    if ('token' in slot) return ctxRows + tokenRow.get(slot.token)!;
    const j = (((slot.ctx - shiftOf(variant)) % numContext) + numContext) % numContext; // roll(ctx, shift)[j] = ctx[j - shift]
    return (classSpecific ? ci * numContext : 0) + j;
  };
  const endRow = ctxRows + tokenRow.get(encoder.endTokenId)!;
  const rowsFor = (variant: number, ci: number, len: number): number[] => {
    const out = layouts[ci]!.map((s) => rowOf(s, variant, ci));
    while (out.length < len) out.push(endRow); // padding after the end token never reaches it
    return out.slice(0, len);
  };
  // shared prefix: positions identical across classes in every variant (never the last token)
  let prefixLen = Math.min(...lengths) - 1;
  for (let g = 0; g < numVariants; g++) {
    const first = rowsFor(g, 0, maxLen);
    for (let ci = 1; ci < k; ci++) {
      const other = rowsFor(g, ci, maxLen);
      let p = 0;
      while (p < prefixLen && first[p] === other[p]) p++;
      prefixLen = p;
    }
  }
  const fullLen = pass === 'full' ? encoder.contextLength : maxLen;
  const idxAll = new Int32Array(numVariants * k * fullLen);
  for (let g = 0; g < numVariants; g++) for (let ci = 0; ci < k; ci++) idxAll.set(rowsFor(g, ci, fullLen), (g * k + ci) * fullLen);
  const prefixIdx = new Int32Array(numVariants * prefixLen);
  const suffixLen = maxLen - prefixLen;
  const suffixIdx = new Int32Array(numVariants * k * suffixLen);
  for (let g = 0; g < numVariants; g++) {
    prefixIdx.set(rowsFor(g, 0, maxLen).slice(0, prefixLen), g * prefixLen);
    for (let ci = 0; ci < k; ci++) suffixIdx.set(rowsFor(g, ci, maxLen).slice(prefixLen), (g * k + ci) * suffixLen);
  }

  // ---- tensors
  const rng = createRng(seed);
  const ctxShape = classSpecific ? [k, numContext, e] : [numContext, e];
  const init = new Float32Array(ctxRows * e);
  for (let i = 0; i < init.length; i++) init[i] = rng.normal() * contextStd;
  const initTensor = tf.tensor(init, ctxShape, 'float32');
  const context = tf.variable(initTensor, true);
  initTensor.dispose();
  const fixedTable = encoder.embedTokens(tokenList);
  let disposed = false;

  const chunkSize = options.classChunkSize ?? k;
  assertPositiveInteger(chunkSize, 'classChunkSize');
  const chunks: [number, number][] = [];
  for (let c0 = 0; c0 < k; c0 += chunkSize) chunks.push([c0, Math.min(k, c0 + chunkSize)]);
  const prefixIdxTensorData = prefixIdx;
  /** Token rows and end positions of classes `[c0,c1)`, all variants. */
  const rangeIndices = (c0: number, c1: number): { idx: Int32Array; eot: number[] } => {
    const kc = c1 - c0;
    if (pass === 'shared-prefix') {
      const idx = new Int32Array(numVariants * kc * suffixLen);
      for (let g = 0; g < numVariants; g++) idx.set(suffixIdx.subarray((g * k + c0) * suffixLen, (g * k + c1) * suffixLen), g * kc * suffixLen);
      return { idx, eot: lengths.slice(c0, c1).map((l) => l - 1 - prefixLen) };
    }
    const idx = new Int32Array(numVariants * kc * fullLen);
    const eot: number[] = [];
    for (let g = 0; g < numVariants; g++) {
      idx.set(idxAll.subarray((g * k + c0) * fullLen, (g * k + c1) * fullLen), g * kc * fullLen);
      for (const l of lengths.slice(c0, c1)) eot.push(l - 1);
    }
    return { idx, eot };
  };
  const ranges = chunks.map(([c0, c1]) => rangeIndices(c0, c1));

  /** Features `[M, c1-c0, D]` of classes `[c0,c1)` from context vectors `ctx`. */
  const encodeRange = (ctx: tf.Tensor, chunk: number): tf.Tensor3D =>
    tf.tidy(() => {
      const [c0, c1] = chunks[chunk]!;
      const { idx, eot } = ranges[chunk]!;
      const kc = c1 - c0;
      const table = tf.concat([tf.reshape(ctx, [ctxRows, e]), fixedTable], 0);
      if (pass === 'shared-prefix') {
        const prefix = tf.reshape(selectRows(table, tf.tensor1d(prefixIdxTensorData, 'int32')), [numVariants, prefixLen, e]) as tf.Tensor3D;
        const suffix = tf.reshape(selectRows(table, tf.tensor1d(idx, 'int32')), [numVariants, kc, suffixLen, e]) as tf.Tensor4D;
        return encoder.encodeWithPrefix(prefix, suffix, eot);
      }
      const seqs = tf.reshape(selectRows(table, tf.tensor1d(idx, 'int32')), [numVariants * kc, fullLen, e]) as tf.Tensor3D;
      const flat = encoder.encodeEmbeddings(seqs, eot);
      return tf.reshape(flat, [numVariants, kc, flat.shape[1]]) as tf.Tensor3D;
    });

  /** All classes in chunks, recomputing each chunk in the backward pass (bounded memory). */
  const encodeChunked = tf.customGrad((ctx, save) => {
    const ctxTensor = ctx as tf.Tensor;
    (save as tf.GradSaveFunc)([ctxTensor]);
    const parts = chunks.map((_, i) => encodeRange(ctxTensor, i));
    const value = tf.concat(parts, 1);
    tf.dispose(parts);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const ctxSaved = saved[0]!;
        let acc = tf.zerosLike(ctxSaved);
        chunks.forEach(([c0, c1], i) => {
          const next = tf.tidy(() => {
            const dyChunk = tf.slice(dy, [0, c0, 0], [-1, c1 - c0, -1]);
            return tf.add(acc, vjp((c) => encodeRange(c, i), [ctxSaved], dyChunk)[0]!);
          });
          acc.dispose();
          acc = next;
        });
        return [acc];
      },
    };
  });

  const encode = (_options: ForwardOptions): PromptFeatures => {
    if (disposed) throw new ConfigError('this prompt learner has been disposed.');
    return tf.tidy(() => {
      const features = (chunks.length === 1 ? encodeRange(context, 0) : encodeChunked(context)) as tf.Tensor3D;
      const classFeatures = tf.reshape(tf.slice(features, [0, 0, 0], [1, -1, -1]), [k, features.shape[2]]) as tf.Tensor2D;
      return { classFeatures, promptFeatures: features };
    }) as PromptFeatures;
  };

  return {
    specificationVersion: SPECIFICATION_VERSION,
    classNames,
    numVariants,
    outputDim: encoder.outputDim,
    context,
    promptLengths: lengths,
    sharedPrefixLength: prefixLen,
    config: { encoder: encoder.name, numContext, numVariants, variants, classTokenPosition: position, classSpecificContext: classSpecific, contextStd, suffix: options.suffix ?? '.', pass, seed, classChunkSize: chunkSize },
    encode,
    trainableVariables: () => [context],
    namedVariables: () => ({ 'prompt_learner.context': context }),
    dispose() {
      if (disposed) return;
      disposed = true;
      context.dispose();
      fixedTable.dispose();
    },
  };
}
