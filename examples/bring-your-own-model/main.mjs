// Bring your own model: a tf.LayersModel you already have, wrapped as an ImageClassifier with
// `wrapLayersModel`, trained by lico's trainer and explained by lico's interpreters.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createLicoObjective, createTrainer } from '@lico/core';
import { useBackend } from '@lico/backends';
import { wrapLayersModel } from '@lico/backbones';
import { fashionMnist, limitedLabels, subset } from '@lico/datasets';
import { createInterpreter, insertionDeletion } from '@lico/cam';

const tiny = process.argv.includes('--tiny');
await useBackend('wasm', { log: true, threads: tiny ? 1 : undefined });

// Your model: any Keras-style network with one NHWC input and class scores out (no softmax).
const input = tfl.input({ shape: [28, 28, 1] });
let x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1' }).apply(input);
x = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(x);
x = tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' }).apply(x);
x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x);
const logits = tfl.layers.dense({ units: 10, name: 'logits' }).apply(x);
const layersModel = tfl.model({ inputs: input, outputs: logits, name: 'my-cnn' });

const model = wrapLayersModel(layersModel, { featureLayer: 'features' });
console.log(`wrapped '${model.name}': ${model.countParams()} parameters, feature layer '${model.layerNames.at(-1)}'`);

const labelled = limitedLabels(await fashionMnist({ split: 'train', download: true }), { labelsTotal: tiny ? 32 : 6000, seed: 0 }).labelled;
const test = await fashionMnist({ split: 'test', download: true });
const trainer = createTrainer({ model, objective: createLicoObjective({ mode: 'baseline' }), ema: false, seed: 0 });
await trainer.fit(labelled, { epochs: 1, batchSize: tiny ? 8 : 64, progress: !tiny });
const small = subset(test, Int32Array.from({ length: tiny ? 64 : 2000 }, (_, i) => i));
const { accuracy } = await trainer.evaluate(small, { batchSize: 64 });
console.log(`test accuracy on ${small.size} images: ${(100 * accuracy).toFixed(1)} %`);

// Explain it: Grad-CAM at the feature layer, insertion/deletion on a few images.
const it = small.batches({ batchSize: 4, seed: 0, shuffle: false })[Symbol.asyncIterator]();
const { value: batch } = await it.next();
const labels = Array.from(await batch.labels.data());
const saliency = await createInterpreter('gradCam').explain(model, batch.images, { targets: labels });
const scores = await insertionDeletion(model, batch.images, saliency, { targets: labels, stepSize: 28 });
console.log(`Grad-CAM on 4 images: insertion ${scores.insertion.meanAuc.toFixed(3)}, deletion ${scores.deletion.meanAuc.toFixed(3)}`);
if (!(scores.insertion.meanAuc >= 0 && scores.deletion.meanAuc >= 0)) throw new Error('insertion/deletion failed');
if (saliency.shape.join() !== '4,28,28') throw new Error(`unexpected saliency shape ${saliency.shape}`);
tf.dispose([saliency, batch.images, batch.labels]);
trainer.dispose();
model.dispose();
console.log('bring-your-own-model example OK');
process.exit(0);
