/**
 * `lico explain` as a function: runs interpreters on a seeded choice of test images and writes the
 * inputs and overlays as PNG files with an index, `explanations.json`.
 */
import { mkdirSync } from 'node:fs';
import { checkOutputPath } from './output-path';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, writeFileAtomic } from '@lico/core';
import { useBackend } from '@lico/backends';
import type { CliIo } from '../run-cli';
import type { ExplanationItem, ExplanationsIndex } from '../results/results-schema';
import { loadDataset } from './components';
import { loadTrainedModel, type RunEnvironmentOptions } from './load-model';
import { interpreterByName, renderHeatmapOverlay, renderInput } from './saliency';

/** Options of {@link explainRun}. */
export interface ExplainRunOptions extends RunEnvironmentOptions {
  readonly model: string;
  /** A dataset spec; its test split is used. */
  readonly images: string;
  readonly interpreters: readonly string[];
  readonly count: number;
  /** Seed of the choice of images (the same seed picks the same images for every model). */
  readonly seed: number;
  /** Output directory (default `<model>/explanations`). */
  readonly out?: string;
}

/** Explains `count` test images with each interpreter and writes PNGs + `explanations.json`. */
export async function explainRun(options: ExplainRunOptions, io: CliIo): Promise<{ index: ExplanationsIndex; dir: string }> {
  const say = (line: string) => {
    if (!options.quiet) io.stderr(`${line}\n`);
  };
  if (!options.backendReady) await useBackend(options.backend, { log: options.quiet ? false : say, ...(options.threads ? { threads: options.threads } : {}) });
  const { model, dir: modelDir } = await loadTrainedModel(options.model);
  try {
    const data = await loadDataset(options.images, 'test', {
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.download !== undefined ? { download: options.download } : {}),
    });
    if (data.classNames.length !== model.numClasses) {
      throw new ConfigError(`The model has ${model.numClasses} classes but '${options.images}' has ${data.classNames.length}.`);
    }
    const count = Math.min(options.count, data.size);
    const iterator = data.batches({ batchSize: count, seed: options.seed, epoch: 0, shuffle: true, augment: false })[Symbol.asyncIterator]();
    const first = await iterator.next();
    await iterator.return?.();
    if (first.done) throw new ConfigError(`The dataset '${data.name}' is empty.`);
    const batch = first.value;
    const outDir = resolve(options.out ?? join(modelDir, 'explanations'));
    checkOutputPath(outDir, 'dir', '--out');
    mkdirSync(outDir, { recursive: true });
    try {
      const labels = Array.from(await batch.labels.data());
      const predicted = Array.from(await tf.tidy(() => tf.argMax(model.forward(batch.images, { training: false }).logits, 1)).data());
      const items: ExplanationItem[] = [];
      const overlays: Record<string, string>[] = labels.map(() => ({}));
      for (const name of options.interpreters) {
        const saliency = await interpreterByName(name, options.seed).explain(model, batch.images, { targets: labels });
        try {
          for (let i = 0; i < count; i++) {
            const [image, map] = tf.tidy(() => [tf.squeeze(tf.slice(batch.images, [i, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D, tf.squeeze(tf.slice(saliency, [i, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D]);
            try {
              const file = `${batch.indices[i]}-${name}.png`;
              await writeFileAtomic(join(outDir, file), await renderHeatmapOverlay(image!, map!, data.normalization));
              overlays[i]![name] = file;
            } finally {
              tf.dispose([image!, map!]);
            }
          }
        } finally {
          saliency.dispose();
        }
        say(`lico: ${name}: ${count} overlays written.`);
      }
      for (let i = 0; i < count; i++) {
        const image = tf.tidy(() => tf.squeeze(tf.slice(batch.images, [i, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D);
        const file = `${batch.indices[i]}-input.png`;
        try {
          await writeFileAtomic(join(outDir, file), await renderInput(image, data.normalization));
        } finally {
          image.dispose();
        }
        items.push({
          index: batch.indices[i]!,
          label: labels[i]!,
          labelName: data.classNames[labels[i]!] ?? String(labels[i]),
          predicted: predicted[i]!,
          predictedName: data.classNames[predicted[i]!] ?? String(predicted[i]),
          input: file,
          overlays: overlays[i]!,
        });
      }
      const index: ExplanationsIndex = { schema: 'lico.explanations/1', model: modelDir, dataset: options.images, interpreters: [...options.interpreters], items };
      await writeFileAtomic(join(outDir, 'explanations.json'), `${JSON.stringify(index, null, 2)}\n`);
      say(`lico: explanations of ${count} images written to ${outDir}`);
      return { index, dir: outDir };
    } finally {
      tf.dispose([batch.images, batch.labels]);
    }
  } finally {
    model.dispose();
  }
}
