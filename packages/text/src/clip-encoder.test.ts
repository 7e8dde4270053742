import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { type TensorToWrite, encodeSafetensors, readSafetensors } from '@lico/core';
import { expectClose, expectNoLeaks, loadGolden, useCpuBackend } from '@lico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClipTextEncoder } from './clip-encoder';
import { createPromptLearner } from './prompt/prompt-learner';

interface Golden {
  ids: number[][];
  features: Record<string, number[][]>;
}
const here = path.dirname(fileURLToPath(import.meta.url));
const golden = loadGolden<Golden>(new URL('./__golden__/clip-text.json', import.meta.url));
const FULL = path.join(here, '__golden__', 'clip-tiny-full');
const F16 = path.join(here, '__golden__', 'clip-tiny-text-f16');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lico-clip-'));

beforeAll(useCpuBackend);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the full fixture with its tensors changed by `edit` (safetensors written by @lico/core). */
async function crafted(name: string, edit: (t: Record<string, TensorToWrite>) => void, config?: unknown): Promise<string> {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const read = await readSafetensors(path.join(FULL, 'model.safetensors'));
  const tensors: Record<string, TensorToWrite> = {};
  for (const [k, t] of read) tensors[k] = { dtype: 'F32', shape: t.shape, data: t.data };
  edit(tensors);
  writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors));
  writeFileSync(path.join(dir, 'config.json'), config === undefined ? readFileSync(path.join(FULL, 'config.json')) : JSON.stringify(config));
  return dir;
}

/** A copy of a model directory with the toy tokenizer files of the tokenizer goldens. */
async function withToyTokenizer(src: string, name: string): Promise<string> {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(path.join(src, f), path.join(dir, f));
  copyFileSync(path.join(here, 'tokenizer', '__golden__', 'toy-vocab.json'), path.join(dir, 'vocab.json'));
  copyFileSync(path.join(here, 'tokenizer', '__golden__', 'toy-merges.txt'), path.join(dir, 'merges.txt'));
  return dir;
}

describe('loadClipTextEncoder', () => {
  it('matches the PyTorch reference: full CLIP checkpoint (float32, vision keys skipped) and text-only float16', async () => {
    for (const [dir, key] of [
      [FULL, 'clip-tiny-full'],
      [F16, 'clip-tiny-text-f16'],
    ] as const) {
      const enc = await loadClipTextEncoder(dir);
      expect(enc.outputDim).toBe(24);
      expect(enc.embeddingDim).toBe(32);
      expect(enc.endTokenId).toBe(753);
      expect(enc.startTokenId).toBe(752);
      const out = await expectNoLeaks(() => tf.tidy(() => enc.encodeTokens(tf.tensor2d(golden.ids, undefined, 'int32'))));
      expectClose(out, golden.features[key]!, { atol: 2e-5, rtol: 2e-4 });
      out.dispose();
      enc.dispose();
    }
  });

  it('drives a prompt learner with frozen weights (no variables besides the context)', async () => {
    const bare = await loadClipTextEncoder(F16);
    expect(() => bare.tokenizeText('cat')).toThrow(/has no tokenizer: .* lacks vocab\.json/);
    bare.dispose();
    const enc = await loadClipTextEncoder(await withToyTokenizer(F16, 'f16-tok'));
    expect(enc.tokenizeText('a photo of a cat.')).toEqual([320, 525, 524, 320, 545, 269]);
    const before = tf.memory().numTensors;
    const learner = createPromptLearner({ encoder: enc, classNames: ['cat', 'horse'], numContext: 4 });
    expect(learner.trainableVariables()).toHaveLength(1);
    const { promptFeatures, classFeatures } = learner.encode({ training: true });
    expect(promptFeatures.shape).toEqual([4, 2, 24]);
    tf.dispose([promptFeatures, classFeatures]);
    learner.dispose();
    expect(tf.memory().numTensors).toBe(before);
    enc.dispose();
  });

  it('treats weight files as untrusted: clear errors naming the file and the tensor', async () => {
    const cases: [string, (t: Record<string, TensorToWrite>) => void, RegExp][] = [
      ['missing-key', (t) => delete t['text_model.encoder.layers.1.mlp.fc2.bias'], /missing tensor 'text_model\.encoder\.layers\.1\.mlp\.fc2\.bias'/],
      ['bad-shape', (t) => (t['text_model.final_layer_norm.bias'] = { dtype: 'F32', shape: [31], data: new Float32Array(31) }), /model\.safetensors: tensor 'text_model\.final_layer_norm\.bias' has shape \[31\], but config\.json implies \[32\]/],
      ['int-dtype', (t) => (t['text_model.final_layer_norm.bias'] = { dtype: 'I32', shape: [32], data: new Int32Array(32) }), /dtype I32; expected F32, F16 or BF16/],
      ['extra-layer', (t) => (t['text_model.encoder.layers.2.mlp.fc2.bias'] = { dtype: 'F32', shape: [32], data: new Float32Array(32) }), /unexpected tensor 'text_model\.encoder\.layers\.2\.mlp\.fc2\.bias'/],
      ['nan', (t) => (t['text_model.final_layer_norm.bias'] = { dtype: 'F32', shape: [32], data: new Float32Array(32).fill(Number.NaN) }), /non-finite value/],
    ];
    for (const [name, edit, message] of cases) {
      const dir = await crafted(name, edit);
      await expect(loadClipTextEncoder(dir), name).rejects.toThrow(message);
    }
    // truncated file, garbage header
    const dir = await crafted('truncated', () => {});
    const file = path.join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    await expect(loadClipTextEncoder(dir)).rejects.toThrow(/model\.safetensors: .*(beyond the data section|truncated)/);
    writeFileSync(file, Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{not json}      ')]));
    await expect(loadClipTextEncoder(dir)).rejects.toThrow(/not valid UTF-8 JSON/);
    // config mismatches and missing files
    const mismatch = await crafted('layers-mismatch', () => {}, { projection_dim: 24, text_config: { vocab_size: 754, hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 16 } });
    await expect(loadClipTextEncoder(mismatch)).rejects.toThrow(/missing tensor 'text_model\.encoder\.layers\.2\..*' \(config\.json says 3 layers\)/);
    const width = await crafted('width-mismatch', () => {}, { projection_dim: 24, text_config: { vocab_size: 754, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, max_position_embeddings: 16 } });
    await expect(loadClipTextEncoder(width)).rejects.toThrow(/mlp\.fc1\.weight' has shape \[64,32\], but config\.json implies \[128,32\]/);
    const noConfig = path.join(tmp, 'no-config');
    mkdirSync(noConfig, { recursive: true });
    copyFileSync(path.join(FULL, 'model.safetensors'), path.join(noConfig, 'model.safetensors'));
    await expect(loadClipTextEncoder(noConfig)).rejects.toThrow(/config\.json is missing/);
    writeFileSync(path.join(noConfig, 'config.json'), '{"text_config": {"hidden_size": "wide"}}');
    await expect(loadClipTextEncoder(noConfig)).rejects.toThrow(/field 'hidden_size' must be a number/);
  });

  it('downloads from the hub into the cache (fake fetch), then loads offline', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const served: string[] = [];
    const files: Record<string, Buffer> = {
      'config.json': readFileSync(path.join(F16, 'config.json')),
      'model.safetensors': readFileSync(path.join(F16, 'model.safetensors')),
      'vocab.json': readFileSync(path.join(here, 'tokenizer', '__golden__', 'toy-vocab.json')),
      'merges.txt': readFileSync(path.join(here, 'tokenizer', '__golden__', 'toy-merges.txt')),
    };
    const fakeFetch = async (url: string): Promise<Response> => {
      served.push(url);
      const name = url.split('/').pop()!;
      return new Response(new Uint8Array(files[name]!), { status: 200, headers: { 'content-length': String(files[name]!.length) } });
    };
    const progress: string[] = [];
    const enc = await loadClipTextEncoder('someone/clip-tiny', { cacheDir, fetch: fakeFetch, onProgress: (f) => progress.push(f) });
    expect(served).toEqual(['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'].map((f) => `https://huggingface.co/someone/clip-tiny/resolve/main/${f}`));
    expect(new Set(progress).size).toBe(4);
    expect(enc.tokenizer).not.toBeNull();
    enc.dispose();
    const again = await loadClipTextEncoder('someone/clip-tiny', { cacheDir, fetch: () => Promise.reject(new Error('offline')) });
    expect(served).toHaveLength(4);
    again.dispose();
    await expect(loadClipTextEncoder('not a dir or id', { cacheDir })).rejects.toThrow(/neither an existing directory nor a model hub id/);
  });
});
