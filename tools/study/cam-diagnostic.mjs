// Diagnostic for study 2 (docs/evidence): where Grad-CAM and Grad-CAM++ maps of a trained
// fashion-mnist-localisation run put their mass, and whether any map is degenerate (all zero or
// constant). Prints one JSON line per interpreter: pointing game, energy in the mask, the mean
// mask area, and the share of the map's mass in the canvas' outer 4-pixel frame (43.75 % of it).
//   node tools/study/cam-diagnostic.mjs <run dir written by lico train> [images=500] [backbone seed]
// A study run's directory keeps only its final checkpoint; `lico train … --resume` with the run's
// options and --out pointing at a copy of it rebuilds the exact model (see docs/evidence/README.md).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@lico/backends';
import * as datasets from '@lico/datasets';
import { loadVariables } from '@lico/core';
import { createWideResNet } from '@lico/backbones';
import * as cam from '@lico/cam';
import { existsSync } from 'node:fs';
const dir = process.argv[2];
const N = Number(process.argv[3] ?? 500);
const seed = Number(process.argv[4] ?? 0); // only initialises the variables the weights replace
if (!dir || !existsSync(`${dir}/model/model.json`) || !Number.isInteger(N) || N < 1 || N > 2000 || !Number.isInteger(seed)) {
  console.error('usage: node tools/study/cam-diagnostic.mjs <run dir with model/model.json> [images 1..2000, default 500] [seed]');
  process.exit(2);
}
await useBackend('wasm', { threads: 1, log: false });
const source = await datasets.fashionMnist({ split: 'test' });
const ds = datasets.createLocalisationBenchmark({ source, count: 2000, seed: 2, canvasSize: 32 });
const model = createWideResNet({ preset: 'wrn-16-1', numClasses: 10, inputChannels: 1, seed });
await loadVariables(`${dir}/model`, model.namedVariables());
const it = ds.batches({ batchSize: N, seed: 0, shuffle: false, augment: false })[Symbol.asyncIterator]();
const { value: batch } = await it.next(); await it.return?.();
const labels = Array.from(await batch.labels.data());
const masks = Float32Array.from(ds.batchMasks(batch.indices));
const HW = 32 * 32;
for (const name of ['gradCam', 'gradCamPlusPlus']) {
  const s = await cam.createInterpreter(name).explain(model, batch.images, { targets: labels });
  const m = tf.tensor3d(masks, [N, 32, 32]);
  // The study's own metrics: a hit when any maximal location lies in the mask; the map's share in it.
  const pg = await cam.pointingGame(s, m);
  const en = await cam.energyInMask(s, m);
  m.dispose();
  const d = await s.data(); s.dispose();
  let zero = 0, constant = 0, hits = 0, maskShare = 0, border = 0;
  for (let n = 0; n < N; n++) {
    let mx = -Infinity, mn = Infinity, tot = 0, area = 0, bord = 0;
    for (let p = 0; p < HW; p++) {
      const v = d[n * HW + p]; tot += v; if (masks[n * HW + p] > 0) area++;
      const y = Math.floor(p / 32), x = p % 32; if (y < 4 || y >= 28 || x < 4 || x >= 28) bord += v;
      if (v > mx) mx = v; if (v < mn) mn = v;
    }
    if (mx === 0) zero++; if (mx - mn < 1e-6) constant++;
    if (pg.hits[n]) hits++;
    maskShare += area / HW; border += tot > 0 ? bord / tot : 0;
  }
  console.log(JSON.stringify({ dir, name, N, allZeroMaps: zero, constantMaps: constant, pointing: hits / N, meanMaskArea: +(maskShare / N).toFixed(3), energyInMask: +(en.energy.reduce((a, b) => a + b, 0) / N).toFixed(3), massInOuter4pxBorder: +(border / N).toFixed(3) }));
}
tf.dispose([batch.images, batch.labels]); model.dispose();
