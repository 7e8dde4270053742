// A library author's own loop: a plain tf.sequential CNN (tfjs-layers' sequential) trained with tf.train.sgd and int32
// labels. LICO is added by wrapping the model (wrapLayersModel: which layer is the feature map)
// and replacing the loss by objective.computeLoss(...).total; Grad-CAM then explains the model.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createLicoObjective, featurePositions } from '@lico/core';
import { useBackend } from '@lico/backends';
import { wrapLayersModel } from '@lico/backbones';
import { gradCam } from '@lico/cam';
import { fashionMnist, limitedLabels } from '@lico/datasets';
import { createManifoldMatchingLoss, createOptimalTransportLoss } from '@lico/losses';
import { createMappingNet, createPromptLearner, createTemperature, createWordVectorEncoder } from '@lico/text';

const tiny = process.argv.includes('--tiny');
const steps = tiny ? 4 : 150;
const batchSize = tiny ? 8 : 64;
await useBackend('wasm', { log: true, threads: tiny ? 1 : undefined }); // not tf.setBackend: lico's kernels come with it

// --- the existing model and optimiser (no softmax at the end: the scores are the logits) ------
const cnn = tfl.sequential({
  layers: [
    tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' }),
    tfl.layers.globalAveragePooling2d({}),
    tfl.layers.dense({ units: 10 }),
  ],
});
const optimizer = tf.train.sgd(0.05);

// --- LICO, added ------------------------------------------------------------------------------
const model = wrapLayersModel(cnn, { featureLayer: 'features' });
const train = limitedLabels(await fashionMnist({ split: 'train', download: true }), { labelsTotal: steps * batchSize, seed: 0 }).labelled;
const encoder = await createWordVectorEncoder({ texts: [...train.classNames, '.'], unknownWords: 'hash' });
const promptLearner = createPromptLearner({ encoder, classNames: train.classNames });
const mappingNet = createMappingNet({ inputDim: promptLearner.outputDim, outputDim: featurePositions(model, [28, 28, 1]) });
const objective = createLicoObjective({ promptLearner, mappingNet, temperature: createTemperature(), mm: createManifoldMatchingLoss(), ot: createOptimalTransportLoss() });
const variables = [...model.trainableVariables(), ...objective.trainableVariables()];

let step = 0;
for await (const batch of train.batches({ batchSize, seed: 0, epoch: 0 })) {
  let terms;
  const cost = optimizer.minimize(
    // before: tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, 10), cnn.apply(batch.images))
    () => objective.computeLoss(model.forward(batch.images, { training: true }), batch.labels, { seed: step, onTerms: (t) => (terms = t) }).total,
    true,
    variables,
  );
  const [total, ce, mm, ot] = await Promise.all([cost.data(), terms.ce.data(), terms.mm.data(), terms.ot.data()]);
  tf.dispose([cost, terms.ce, terms.mm, terms.ot, terms.total, batch.images, batch.labels]);
  if (!Number.isFinite(total[0])) throw new Error(`step ${step}: loss ${total[0]}`);
  if (tiny || step % 25 === 0) console.log(`step ${step}: loss ${total[0].toFixed(4)} (ce ${ce[0].toFixed(4)}, mm ${mm[0].toExponential(2)}, ot ${ot[0].toFixed(4)})`);
  step += 1;
}

// --- explain the trained model (inference needs nothing of the text side) ---------------------
const test = await fashionMnist({ split: 'test', download: true });
for await (const batch of test.batches({ batchSize: 4, seed: 0, shuffle: false })) {
  const targets = Array.from(await batch.labels.data());
  const maps = await gradCam(model, batch.images, { targets });
  const range = tf.stack([tf.min(maps), tf.max(maps)]);
  const [lo, hi] = await range.data();
  console.log(`Grad-CAM maps ${JSON.stringify(maps.shape)}, range [${lo.toFixed(2)}, ${hi.toFixed(2)}]`);
  tf.dispose([range, maps, batch.images, batch.labels]);
  break;
}
console.log(`sequential-loop example OK: ${step} steps, ${tf.memory().numTensors} tensors held`);
