// Prepares the page's assets in assets/: a classifier trained by `lico train` (tfjs format,
// trained here once if assets/model is missing) and a few Fashion-MNIST test images.
//   node prepare-assets.mjs            (npm run build runs it)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { FASHION_MNIST_NORMALIZATION, fashionMnist } from '@lico/datasets';

const here = fileURLToPath(new URL('.', import.meta.url));
const assets = `${here}assets`;
mkdirSync(assets, { recursive: true });

/** The classifier: WRN-10-1, 2000 labels, 4 epochs (~30 s on one core); test accuracy ~70 %. */
export const TRAIN_ARGS = ['train', '--dataset', 'fashion-mnist', '--backbone', 'wrn-10-1', '--mode', 'baseline', '--labels', '2000', '--epochs', '4', '--eval-size', '1000', '--seed', '0', '--backend', 'wasm', '--threads', '1', '--quiet'];

if (!existsSync(`${assets}/model/model.json`)) {
  // A run directory of this process's own: two preparations at once (a build and a test) must not
  // share one; the last to finish replaces the model with an identical one (same seed).
  const run = `${assets}/.train-run-${process.pid}`;
  rmSync(run, { recursive: true, force: true });
  const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
  console.log(`training the page's classifier: lico ${TRAIN_ARGS.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...TRAIN_ARGS, '--out', run], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`lico train exited with ${r.status ?? r.signal}`);
  rmSync(`${assets}/model`, { recursive: true, force: true });
  renameSync(`${run}/model`, `${assets}/model`);
  renameSync(`${run}/results.json`, `${assets}/model/results.json`);
  rmSync(run, { recursive: true, force: true });
}

if (!existsSync(`${assets}/samples.json`)) {
  await tf.setBackend('cpu');
  const test = await fashionMnist({ split: 'test' });
  const { mean, std } = FASHION_MNIST_NORMALIZATION;
  const samples = [];
  // The first test image of each of 8 classes.
  for await (const { images, labels } of test.batches({ batchSize: 64, seed: 0, shuffle: false })) {
    const x = await images.data();
    const y = await labels.data();
    for (let i = 0; i < y.length && samples.length < 8; i++) {
      if (samples.some((s) => s.label === y[i])) continue;
      const pixels = Array.from(x.subarray(i * 784, (i + 1) * 784), (v) => Math.round((v * std[0] + mean[0]) * 255));
      samples.push({ label: y[i], className: test.classNames[y[i]], pixels });
    }
    tf.dispose([images, labels]);
    if (samples.length >= 8) break;
  }
  const tmp = `${assets}/samples.json.tmp`;
  writeFileSync(tmp, JSON.stringify({ classNames: test.classNames, normalization: FASHION_MNIST_NORMALIZATION, samples }));
  renameSync(tmp, `${assets}/samples.json`);
}
console.log(`assets ready in ${assets}`);
