// LICO with CLIP's text encoder from a local Hugging Face directory (config.json,
// model.safetensors, vocab.json, merges.txt), e.g. a copy of openai/clip-vit-base-patch32:
//
//   node main.mjs /path/to/clip-vit-base-patch32
//
// Without a directory (and with --tiny, as CI runs it) the example first writes a tiny CLIP of the
// same format with random weights into a temporary directory, so it runs anywhere in seconds.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createLicoObjective, createTrainer, writeSafetensors, createRng } from '@lico/core';
import { useBackend } from '@lico/backends';
import { createWideResNet } from '@lico/backbones';
import { fashionMnist, limitedLabels } from '@lico/datasets';
import { createManifoldMatchingLoss, createOptimalTransportLoss } from '@lico/losses';
import { bytesToUnicode, createMappingNet, createPromptLearner, createTemperature, hfClipTextKeys, hfClipTextShapes, loadClipTextEncoder, parseHfClipTextConfig } from '@lico/text';

/** Writes a tiny random CLIP (Hugging Face format) into `dir`. */
async function writeTinyClip(dir) {
  const symbols = bytesToUnicode(); // the 256 base symbols of CLIP's byte-level BPE
  const merges = ['t o', 'o p</w>', 's h', 'sh i'];
  const vocab = [...symbols, ...symbols.map((s) => `${s}</w>`), ...merges.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(Object.fromEntries(vocab.map((t, i) => [t, i]))));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  const hfConfig = {
    architectures: ['CLIPModel'],
    projection_dim: 24,
    text_config: {
      vocab_size: vocab.length,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      intermediate_size: 64,
      max_position_embeddings: 40,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      bos_token_id: vocab.length - 2,
      eos_token_id: vocab.length - 1,
      pad_token_id: 1,
    },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 1));
  const config = parseHfClipTextConfig(hfConfig, join(dir, 'config.json'));
  const shapes = hfClipTextShapes(config);
  const rng = createRng(0);
  const tensors = {};
  for (const key of hfClipTextKeys(config, true)) {
    const shape = shapes.get(key);
    const size = shape.reduce((a, b) => a * b, 1);
    const isNormWeight = /layer_norm\d?\.weight$|final_layer_norm\.weight$/.test(key);
    const data = new Float32Array(size).map(() => (isNormWeight ? 1 : key.endsWith('.bias') ? 0 : 0.02 * rng.normal()));
    tensors[key] = { dtype: 'F32', shape, data };
  }
  await writeSafetensors(join(dir, 'model.safetensors'), tensors);
}

const tiny = process.argv.includes('--tiny');
const given = process.argv.slice(2).find((a) => !a.startsWith('--'));
const clipDir = given ?? mkdtempSync(join(tmpdir(), 'lico-tiny-clip-'));
if (!given) await writeTinyClip(clipDir);
await useBackend('wasm', { log: true, threads: tiny ? 1 : undefined });

const encoder = await loadClipTextEncoder(clipDir);
console.log(`loaded CLIP text encoder '${encoder.name}' from ${clipDir}: width ${encoder.embeddingDim}, features ${encoder.outputDim}`);
const labelled = limitedLabels(await fashionMnist({ split: 'train', download: true }), { labelsTotal: tiny ? 16 : 2000, seed: 0 }).labelled;
const promptLearner = createPromptLearner({ encoder, classNames: labelled.classNames, numContext: tiny ? 4 : 12 });
const model = createWideResNet({ preset: 'wrn-10-1', numClasses: 10, inputChannels: 1, seed: 0 });
const mappingNet = createMappingNet({ inputDim: promptLearner.outputDim, outputDim: 7 * 7 });
const temperature = createTemperature();
const objective = createLicoObjective({
  promptLearner,
  mappingNet,
  temperature,
  mm: createManifoldMatchingLoss(),
  ot: createOptimalTransportLoss(),
});
const trainer = createTrainer({ model, objective, ema: false, seed: 0 });
let last;
const result = await trainer.fit(labelled, { epochs: 1, batchSize: 8, onStep: (m) => (last = m), progress: !tiny });
console.log(`trained ${result.step} steps with CLIP prompts: ce ${last.ce.toFixed(4)}, mm ${last.mm.toFixed(4)}, ot ${last.ot.toFixed(4)}`);
if (!(Number.isFinite(last.mm) && last.mm !== 0 && Number.isFinite(last.ot) && last.ot !== 0)) throw new Error('the LICO terms did not run');
trainer.dispose();
objective.dispose();
promptLearner.dispose();
mappingNet.dispose();
temperature.dispose();
encoder.dispose();
model.dispose();
console.log(`clip-local example OK (tensors left: ${tf.memory().numTensors})`);
process.exit(0);
