import { ConfigError, assertPositiveInteger } from '@lico/core';

/** Shape of a CLIP text transformer (the fields of a Hugging Face `CLIPTextConfig`, camel-cased). */
export interface ClipTextConfig {
  /** Number of token ids. */
  readonly vocabSize: number;
  /** Residual width `E` (`hidden_size`). */
  readonly width: number;
  /** Number of transformer blocks (`num_hidden_layers`). */
  readonly layers: number;
  /** Attention heads (`num_attention_heads`); must divide `width`. */
  readonly heads: number;
  /** MLP hidden width (`intermediate_size`). */
  readonly intermediateSize: number;
  /** Maximum sequence length (`max_position_embeddings`, 77 for CLIP). */
  readonly contextLength: number;
  /** Output width `D` of the text projection; `null` when the model has no projection (features are the pooled `[E]` output). */
  readonly projectionDim: number | null;
  /** Layer-norm epsilon (1e-5). */
  readonly layerNormEps: number;
  /** MLP activation: `'quick_gelu'` (CLIP) or `'gelu'` (tanh-free erf form is not available in tfjs; `'gelu'` uses the tanh approximation). */
  readonly hiddenAct: 'quick_gelu' | 'gelu';
  /** Start-of-text token id (49406 for CLIP). */
  readonly bosTokenId: number;
  /** End-of-text token id (49407 for CLIP); pooling takes the output at its first occurrence. */
  readonly eosTokenId: number;
}

/** The text side of `openai/clip-vit-base-patch32`. */
export const CLIP_VIT_B_32_TEXT_CONFIG: ClipTextConfig = {
  vocabSize: 49408,
  width: 512,
  layers: 12,
  heads: 8,
  intermediateSize: 2048,
  contextLength: 77,
  projectionDim: 512,
  layerNormEps: 1e-5,
  hiddenAct: 'quick_gelu',
  bosTokenId: 49406,
  eosTokenId: 49407,
};

/** Checks a configuration; throws a {@link ConfigError} naming the bad field. */
export function validateClipTextConfig(config: ClipTextConfig): ClipTextConfig {
  for (const key of ['vocabSize', 'width', 'layers', 'heads', 'intermediateSize', 'contextLength'] as const) {
    assertPositiveInteger(config[key], `ClipTextConfig.${key}`);
  }
  if (config.projectionDim !== null) assertPositiveInteger(config.projectionDim, 'ClipTextConfig.projectionDim');
  if (config.width % config.heads !== 0) throw new ConfigError(`ClipTextConfig.heads (${config.heads}) must divide width (${config.width}).`);
  if (!(config.layerNormEps > 0)) throw new ConfigError(`ClipTextConfig.layerNormEps must be > 0, got ${config.layerNormEps}.`);
  if (config.hiddenAct !== 'quick_gelu' && config.hiddenAct !== 'gelu') {
    throw new ConfigError(`ClipTextConfig.hiddenAct must be 'quick_gelu' or 'gelu', got '${String(config.hiddenAct)}'.`);
  }
  for (const key of ['bosTokenId', 'eosTokenId'] as const) {
    const id = config[key];
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
      throw new ConfigError(`ClipTextConfig.${key} must be an integer in [0, ${config.vocabSize}), got ${id}.`);
    }
  }
  return config;
}

/**
 * Reads a Hugging Face `config.json` (a full `CLIPConfig` with `text_config`, or a
 * `CLIPTextConfig`) into a {@link ClipTextConfig}. `file` names the source in errors.
 */
export function parseHfClipTextConfig(json: unknown, file: string): ClipTextConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`${file}: config must be a JSON object.`);
  const root = json as Record<string, unknown>;
  const text = (root.text_config && typeof root.text_config === 'object' ? root.text_config : root) as Record<string, unknown>;
  const num = (obj: Record<string, unknown>, key: string, fallback?: number): number => {
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${file}: field '${key}' must be a number, got ${JSON.stringify(v)}.`);
    return v;
  };
  const width = num(text, 'hidden_size', 512);
  const vocabSize = num(text, 'vocab_size', 49408);
  let eos = num(text, 'eos_token_id', vocabSize - 1);
  // Old CLIP configs say eos_token_id = 2 while the tokenizer's end-of-text id is the last id;
  // transformers then pools at argmax(input_ids), i.e. the last vocabulary id. Do the same.
  if (eos === 2) eos = vocabSize - 1;
  const hasProjection = root.text_config !== undefined || text.projection_dim !== undefined;
  const act = text.hidden_act ?? 'quick_gelu';
  const hiddenAct = act === 'gelu_pytorch_tanh' || act === 'gelu_new' ? 'gelu' : (act as 'quick_gelu' | 'gelu');
  return validateClipTextConfig({
    vocabSize,
    width,
    layers: num(text, 'num_hidden_layers', 12),
    heads: num(text, 'num_attention_heads', 8),
    intermediateSize: num(text, 'intermediate_size', 2048),
    contextLength: num(text, 'max_position_embeddings', 77),
    projectionDim: hasProjection ? num(root.text_config !== undefined ? root : text, 'projection_dim', 512) : null,
    layerNormEps: num(text, 'layer_norm_eps', 1e-5),
    hiddenAct,
    // old configs say bos_token_id = 0; CLIP's start token is the second-to-last id
    bosTokenId: num(text, 'bos_token_id', vocabSize - 2) === 0 ? vocabSize - 2 : num(text, 'bos_token_id', vocabSize - 2),
    eosTokenId: eos,
  });
}
