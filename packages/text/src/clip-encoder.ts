import { createHash, fs, path } from '#node-builtins';
import {
  ConfigError,
  FileFormatError,
  NotFoundError,
  createProgressBar,
  defaultCacheDir,
  downloadToCache,
  readSafetensors,
  readSafetensorsHeader,
} from '@lico/core';
import type { PromptableTextEncoder } from './promptable';
import { ClipTokenizer } from './tokenizer/clip-tokenizer';
import { type ClipTextConfig, parseHfClipTextConfig, validateClipTextConfig } from './transformer/config';
import { type TextTokenizerFns, createTransformerEncoder } from './transformer/transformer-encoder';
import { clipTextWeightsFromHf, hfClipTextKeys, hfClipTextShapes, randomHfClipTextArrays } from './transformer/weights';

/** A CLIP text encoder with its tokenizer (when it has one). */
export interface ClipTextEncoder extends PromptableTextEncoder {
  readonly config: ClipTextConfig;
  /** The BPE tokenizer, or `null` for a random-weight encoder built without one. */
  readonly tokenizer: ClipTokenizer | null;
}

/** Options of {@link createClipTextEncoder}. */
export interface CreateClipTextEncoderOptions {
  /** A tokenizer to use; without one, words are hashed to ids (the weights are random anyway). */
  readonly tokenizer?: ClipTokenizer;
  /** Name of the encoder (default `'clip-random-<layers>x<width>'`). */
  readonly name?: string;
}

/** Hashes words to ids in `[0, vocabSize-2)` (start/end excluded): a tokenizer for random-weight encoders. */
function hashTokenizer(config: ClipTextConfig): TextTokenizerFns {
  return {
    encode(text) {
      const words = ClipTokenizer.split(ClipTokenizer.clean(text));
      return words.map((w) => {
        const id = createHash('sha256').update(w).digest().readUInt32LE(0) % config.vocabSize;
        return id === config.bosTokenId || id === config.eosTokenId ? (id + 2) % config.vocabSize : id;
      });
    },
  };
}

/**
 * A CLIP-shaped text encoder with random frozen weights (initialised as `CLIPTextModel`, from
 * `seed`). For tests and benchmarks: it has CLIP's cost, not its knowledge.
 */
export function createClipTextEncoder(config: ClipTextConfig, seed = 0, options: CreateClipTextEncoderOptions = {}): ClipTextEncoder {
  validateClipTextConfig(config);
  const arrays = randomHfClipTextArrays(config, seed);
  const weights = clipTextWeightsFromHf(config, (k) => arrays.get(k)!);
  const tok = options.tokenizer ?? null;
  const encoder = createTransformerEncoder(options.name ?? `clip-random-${config.layers}x${config.width}`, config, weights, tok ? { encode: (t) => tok.encode(t) } : hashTokenizer(config));
  return Object.assign(encoder, { config, tokenizer: tok });
}

/** Options of {@link loadClipTextEncoder}. */
export interface LoadClipTextEncoderOptions {
  /** Cache directory of downloads (default `defaultCacheDir()`). */
  readonly cacheDir?: string;
  /** Download progress, per file; default: a progress bar on stderr when it is a terminal. */
  readonly onProgress?: (file: string, received: number, total: number | null) => void;
  /** Model hub base URL (default `https://huggingface.co`). */
  readonly hubUrl?: string;
  /** Revision to download (default `'main'`). */
  readonly revision?: string;
  /** Test seam: the fetch implementation. */
  readonly fetch?: (url: string) => Promise<Response>;
}

const MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] as const;

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Downloads a model's files from the hub into `<cacheDir>/hf/<owner>--<name>/`. */
async function downloadModel(repoId: string, options: LoadClipTextEncoderOptions): Promise<string> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repoId)) throw new ConfigError(`'${repoId}' is neither an existing directory nor a model hub id of the form owner/name.`);
  const dir = path.join(options.cacheDir ?? defaultCacheDir(), 'hf', repoId.replace('/', '--'));
  const base = (options.hubUrl ?? 'https://huggingface.co').replace(/\/$/, '');
  const revision = options.revision ?? 'main';
  for (const file of MODEL_FILES) {
    if (await exists(path.join(dir, file))) continue;
    let bar: ReturnType<typeof createProgressBar> | null = null;
    await downloadToCache(`${base}/${repoId}/resolve/${revision}/${file}`, {
      cacheDir: dir,
      fileName: file,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      onProgress: (received, total) => {
        if (options.onProgress) return options.onProgress(file, received, total);
        if (!bar && total) bar = createProgressBar({ total: total / 1e6, label: `${repoId}/${file}`, unit: 'MB' });
        bar?.update(received / 1e6);
      },
    });
    (bar as ReturnType<typeof createProgressBar> | null)?.done();
  }
  return dir;
}

/**
 * Loads a frozen CLIP text encoder from a local Hugging Face directory (`config.json`,
 * `model.safetensors` in float32, float16 or bfloat16, and the tokenizer's `vocab.json` +
 * `merges.txt`), or downloads those files from the model hub when `dirOrRepoId` is a hub id such
 * as `'openai/clip-vit-base-patch32'` and not a directory. Accepts the text weights of a full
 * CLIP checkpoint (vision weights are skipped) or of a text-only one (with or without
 * `text_projection`).
 *
 * The weights file is untrusted: its header, dtypes, offsets, keys and shapes are checked before
 * use, and every problem is a {@link FileFormatError} naming the file and the tensor.
 */
export async function loadClipTextEncoder(dirOrRepoId: string, options: LoadClipTextEncoderOptions = {}): Promise<ClipTextEncoder> {
  let dir = dirOrRepoId;
  let isDir = false;
  try {
    isDir = (await fs.stat(dirOrRepoId)).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) dir = await downloadModel(dirOrRepoId, options);
  const configFile = path.join(dir, 'config.json');
  const weightsFile = path.join(dir, 'model.safetensors');
  for (const f of [configFile, weightsFile]) {
    if (!(await exists(f))) throw new NotFoundError(`CLIP text encoder: ${f} is missing (a model directory needs config.json and model.safetensors).`);
  }
  let configJson: unknown;
  try {
    configJson = JSON.parse(await fs.readFile(configFile, 'utf-8'));
  } catch (error) {
    throw new FileFormatError(configFile, `not valid JSON (${(error as Error).message})`);
  }
  let config = parseHfClipTextConfig(configJson, configFile);
  const header = await readSafetensorsHeader(weightsFile);
  const hasProjection = header.entries.has('text_projection.weight');
  if (!hasProjection) config = { ...config, projectionDim: null };
  else {
    const shape = header.entries.get('text_projection.weight')!.shape;
    if (shape.length === 2 && config.projectionDim !== shape[0]) config = { ...config, projectionDim: shape[0]! };
  }
  const expected = hfClipTextKeys(config, hasProjection);
  const expectedSet = new Set(expected);
  for (const key of expected) {
    if (!header.entries.has(key)) throw new FileFormatError(weightsFile, `missing tensor '${key}' (config.json says ${config.layers} layers)`);
  }
  for (const key of header.entries.keys()) {
    if (key.startsWith('text_model.') && !expectedSet.has(key) && key !== 'text_model.embeddings.position_ids') {
      throw new FileFormatError(weightsFile, `unexpected tensor '${key}' for the configuration in config.json (${config.layers} layers)`);
    }
  }
  const shapes = hfClipTextShapes(config);
  for (const key of expected) {
    const entry = header.entries.get(key)!;
    if (!['F32', 'F16', 'BF16'].includes(entry.dtype)) throw new FileFormatError(weightsFile, `tensor '${key}' has dtype ${entry.dtype}; expected F32, F16 or BF16`);
    const want = shapes.get(key)!;
    if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) {
      throw new FileFormatError(weightsFile, `tensor '${key}' has shape [${entry.shape.join(',')}], but config.json implies [${want.join(',')}]`);
    }
  }
  const tensors = await readSafetensors(weightsFile, { select: (k) => expectedSet.has(k) });
  for (const [key, t] of tensors) {
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new FileFormatError(weightsFile, `tensor '${key}' holds a non-finite value at flat index ${i}`);
    }
  }
  const weights = clipTextWeightsFromHf(config, (k) => tensors.get(k)!.data as Float32Array);
  let tokenizer: ClipTokenizer | null = null;
  if ((await exists(path.join(dir, 'vocab.json'))) && (await exists(path.join(dir, 'merges.txt')))) {
    tokenizer = await ClipTokenizer.fromDirectory(dir);
    for (const [what, id] of [['start', tokenizer.startTokenId], ['end', tokenizer.endTokenId]] as const) {
      if (id >= config.vocabSize) {
        throw new FileFormatError(path.join(dir, 'vocab.json'), `the tokenizer's ${what}-of-text id ${id} lies outside the model's vocabulary of ${config.vocabSize} tokens (tokenizer and weights do not match)`);
      }
    }
    config = { ...config, bosTokenId: tokenizer.startTokenId, eosTokenId: tokenizer.endTokenId };
  }
  const tok = tokenizer;
  const name = path.basename(path.resolve(dir)).replace(/^openai--/, '');
  const encoder = createTransformerEncoder(name, config, weights, {
    encode(text) {
      if (!tok) throw new NotFoundError(`CLIP text encoder '${name}' has no tokenizer: ${dir} lacks vocab.json and/or merges.txt.`);
      return tok.encode(text);
    },
  });
  return Object.assign(encoder, { config, tokenizer });
}
