import { createReadStream } from '#node-builtins';
import { FileFormatError } from '@lico/core';

/** Result of {@link readWordVectors}. */
export interface WordVectorsRead {
  /** Width of the vectors. */
  readonly dimensions: number;
  /** The requested words that were found, each with its vector. */
  readonly vectors: Map<string, Float32Array>;
}

const QUOTE = 0x22;
const CLOSE = 0x5d;
const BRACE_CLOSE = 0x7d;
// Uint8Arrays, not Buffers: this module is evaluated in a browser bundle too (where it is never called).
const KEY_END = new TextEncoder().encode('":[');
const VECTORS = new TextEncoder().encode('"vectors":{');

/**
 * Streams a wink-embeddings JSON file (`{"dimensions":…,"words":[…],"vectors":{"word":[v…,norm,index],…}}`)
 * and keeps only the vectors of `words`. Never holds the whole file: it scans byte chunks, decodes
 * only keys whose byte length matches a wanted word, and stops as soon as every requested word is
 * found. Words not in the file are simply absent from the result.
 */
export async function readWordVectors(file: string, words: Iterable<string>): Promise<WordVectorsRead> {
  const wanted = new Set(words);
  const lengths = new Set([...wanted].map((w) => Buffer.byteLength(JSON.stringify(w)) - 2));
  const vectors = new Map<string, Float32Array>();
  let dimensions = -1;
  let buf: Buffer = Buffer.alloc(0);
  let pos = 0;
  let inVectors = false;
  let done = wanted.size === 0;
  let ended = false;
  const stream = createReadStream(file, { highWaterMark: 1 << 22 });
  try {
    for await (const chunk of stream) {
      buf = pos < buf.length ? Buffer.concat([buf.subarray(pos), chunk as Buffer]) : (chunk as Buffer);
      pos = 0;
      if (!inVectors) {
        if (dimensions < 0) {
          const m = /"dimensions"\s*:\s*(\d+)/.exec(buf.subarray(0, 4096).toString('latin1'));
          if (m) dimensions = Number(m[1]);
        }
        const at = buf.indexOf(VECTORS);
        if (at < 0) {
          pos = Math.max(0, buf.length - VECTORS.length); // the marker may straddle chunks
          continue;
        }
        inVectors = true;
        if (dimensions < 0) throw new FileFormatError(file, 'the "dimensions" field must precede "vectors"');
        if (done) break;
        pos = at + VECTORS.length;
      }
      for (;;) {
        while (pos < buf.length && buf[pos] !== QUOTE && buf[pos] !== BRACE_CLOSE) pos++;
        if (pos >= buf.length) break;
        if (buf[pos] === BRACE_CLOSE) {
          ended = true;
          done = true;
          break;
        }
        const keyEnd = buf.indexOf(KEY_END, pos + 1);
        if (keyEnd < 0) break;
        const close = buf.indexOf(CLOSE, keyEnd + 3);
        if (close < 0) break;
        const keyLength = keyEnd - pos - 1;
        if (lengths.has(keyLength) || buf.subarray(pos + 1, keyEnd).includes(0x5c)) {
          const raw = buf.toString('utf8', pos + 1, keyEnd);
          const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
          if (wanted.has(key)) {
            const values = buf.toString('latin1', keyEnd + 3, close).split(',').map(Number);
            if (values.length < dimensions || values.some((v) => !Number.isFinite(v))) {
              throw new FileFormatError(file, `vector of word '${key}' has ${values.length} entries or non-numbers; expected at least ${dimensions} finite numbers`);
            }
            vectors.set(key, Float32Array.from(values.slice(0, dimensions)));
            if (vectors.size === wanted.size) done = true;
          }
        }
        pos = close + 1;
        if (done) break;
      }
      if (done) break;
    }
  } finally {
    stream.destroy();
  }
  if (dimensions < 0) throw new FileFormatError(file, 'no "dimensions" field found (is this a wink-embeddings file?)');
  if (!inVectors) throw new FileFormatError(file, 'no "vectors" object found (is this a wink-embeddings file?)');
  if (!done && !ended) throw new FileFormatError(file, 'file ended inside the "vectors" object (truncated?)');
  return { dimensions, vectors };
}
