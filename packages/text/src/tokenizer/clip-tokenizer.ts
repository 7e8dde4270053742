import { fs, path } from '#node-builtins';
import { ConfigError, FileFormatError, NotFoundError } from '@lico/core';
import { htmlUnescape } from './html-unescape';

/** CLIP's start-of-text token. */
export const START_OF_TEXT = '<|startoftext|>';
/** CLIP's end-of-text token. */
export const END_OF_TEXT = '<|endoftext|>';

/** CLIP's split pattern (case-insensitive; the text is lower-cased before). */
const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/**
 * GPT-2/CLIP's reversible map from the 256 byte values to printable characters: entry `b` is the
 * base symbol of byte `b` in the byte-level BPE (useful to build a vocabulary in that format).
 */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i]!)));
  return out;
}

const BYTE_ENCODER = bytesToUnicode();

/** Options of {@link ClipTokenizer.tokenize}. */
export interface TokenizeOptions {
  /**
   * What to do with a text whose tokens (start and end included) exceed the context length:
   * `false` (default) throws a {@link ConfigError} naming the text; `true` keeps the first
   * `contextLength - 1` tokens and puts the end token last, as CLIP's `tokenize(truncate=True)`.
   */
  readonly truncate?: boolean;
}

/**
 * CLIP's byte-level BPE tokenizer, reading the Hugging Face files of `openai/clip-vit-base-patch32`
 * (`vocab.json`, `merges.txt`). Text is cleaned as CLIP does (HTML unescaped twice, whitespace
 * collapsed, stripped, lower-cased), split with CLIP's pattern, and each piece is BPE-encoded
 * with the `</w>` end-of-word marker.
 *
 * Differences from the reference: CLIP first runs `ftfy.fix_text` (mojibake repair, Unicode
 * normalisation of some characters); that is not done here, so text that ftfy would change
 * (e.g. mis-decoded UTF-8, some ligatures) may tokenize differently. HTML unescaping covers
 * numeric references and the common named entities (see `htmlUnescape`).
 */
export class ClipTokenizer {
  /** Token → id. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Id of `<|startoftext|>`. */
  readonly startTokenId: number;
  /** Id of `<|endoftext|>`. */
  readonly endTokenId: number;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();

  /** Builds a tokenizer from the parsed `vocab.json` object and the text of `merges.txt`. */
  constructor(vocab: Readonly<Record<string, number>>, merges: string, source = '<memory>') {
    if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) throw new FileFormatError(source, 'vocab must be a JSON object of token → id');
    const map = new Map<string, number>();
    for (const [token, id] of Object.entries(vocab)) {
      if (!Number.isSafeInteger(id) || id < 0) throw new FileFormatError(source, `vocab entry ${JSON.stringify(token)} has id ${JSON.stringify(id)}, not a non-negative integer`);
      map.set(token, id);
    }
    this.vocab = map;
    const start = map.get(START_OF_TEXT);
    const end = map.get(END_OF_TEXT);
    if (start === undefined || end === undefined) throw new FileFormatError(source, `vocab lacks the special tokens ${START_OF_TEXT} and/or ${END_OF_TEXT}`);
    this.startTokenId = start;
    this.endTokenId = end;
    this.ranks = new Map();
    const lines = merges.split('\n');
    let rank = 0;
    lines.forEach((line, i) => {
      if (i === 0 && line.startsWith('#version')) return;
      const trimmed = line.trim();
      if (trimmed === '') return;
      const parts = trimmed.split(/\s+/);
      if (parts.length !== 2) throw new FileFormatError(source, `merges line ${i + 1} must hold two symbols separated by a space, got ${JSON.stringify(line)}`);
      const key = `${parts[0]} ${parts[1]}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
      rank++;
    });
  }

  /** Reads `vocab.json` and `merges.txt` from the given paths. */
  static async fromFiles(files: { readonly vocab: string; readonly merges: string }): Promise<ClipTokenizer> {
    const read = async (file: string): Promise<string> => {
      try {
        return await fs.readFile(file, 'utf-8');
      } catch (error) {
        throw new NotFoundError(`cannot read tokenizer file ${file}: ${(error as Error).message}`);
      }
    };
    // One after the other: with both files missing, the error always names vocab.json (not whichever read failed first).
    const vocabText = await read(files.vocab);
    const mergesText = await read(files.merges);
    let vocab: Record<string, number>;
    try {
      vocab = JSON.parse(vocabText) as Record<string, number>;
    } catch (error) {
      throw new FileFormatError(files.vocab, `not valid JSON (${(error as Error).message})`);
    }
    return new ClipTokenizer(vocab, mergesText, files.vocab);
  }

  /** Reads `vocab.json` and `merges.txt` from a model directory. */
  static fromDirectory(dir: string): Promise<ClipTokenizer> {
    return ClipTokenizer.fromFiles({ vocab: path.join(dir, 'vocab.json'), merges: path.join(dir, 'merges.txt') });
  }

  /** Cleans text as CLIP does (without ftfy): HTML-unescape twice, strip, collapse whitespace, lower-case. */
  static clean(text: string): string {
    const unescaped = htmlUnescape(htmlUnescape(text)).trim();
    return unescaped.replace(/\s+/gu, ' ').trim().toLowerCase();
  }

  /** Splits cleaned text into CLIP's pre-tokens. */
  static split(cleaned: string): string[] {
    return cleaned.match(PATTERN) ?? [];
  }

  /** BPE of one pre-token (already mapped to byte characters); returns its symbols. */
  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    if (token === START_OF_TEXT || token === END_OF_TEXT) return [token];
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    if (this.cache.size < 100_000) this.cache.set(token, word);
    return word;
  }

  /** Token ids of `text`, without start/end tokens. Throws if a symbol is missing from the vocabulary. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new ConfigError(`text must be a string, got ${JSON.stringify(text)}.`);
    const out: number[] = [];
    const utf8 = new TextEncoder();
    for (const piece of ClipTokenizer.split(ClipTokenizer.clean(text))) {
      const mapped = piece === START_OF_TEXT || piece === END_OF_TEXT ? piece : Array.from(utf8.encode(piece), (b) => BYTE_ENCODER[b]!).join('');
      for (const symbol of this.bpe(mapped)) {
        const id = this.vocab.get(symbol);
        if (id === undefined) throw new ConfigError(`BPE symbol ${JSON.stringify(symbol)} (from ${JSON.stringify(piece)} in ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}) is not in the vocabulary; the vocab and merges files do not match.`);
        out.push(id);
      }
    }
    return out;
  }

  /**
   * Token ids `[B][contextLength]` of each text: start token, ids, end token, zero padding. Texts
   * too long for `contextLength` throw unless `truncate` (see {@link TokenizeOptions}).
   */
  tokenize(texts: string | readonly string[], contextLength = 77, options: TokenizeOptions = {}): number[][] {
    if (!Number.isInteger(contextLength) || contextLength < 2) throw new ConfigError(`contextLength must be an integer ≥ 2, got ${contextLength}.`);
    const list = typeof texts === 'string' ? [texts] : texts;
    return list.map((text) => {
      let ids = [this.startTokenId, ...this.encode(text), this.endTokenId];
      if (ids.length > contextLength) {
        if (!options.truncate) {
          throw new ConfigError(`text ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)} needs ${ids.length} tokens with start/end, more than the context length ${contextLength}; shorten it or pass { truncate: true }.`);
        }
        ids = ids.slice(0, contextLength);
        ids[contextLength - 1] = this.endTokenId;
      }
      const row = new Array<number>(contextLength).fill(0);
      for (let i = 0; i < ids.length; i++) row[i] = ids[i]!;
      return row;
    });
  }
}
