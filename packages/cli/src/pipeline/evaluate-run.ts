/**
 * `lico evaluate` as a function: accuracy of a trained classifier on a test split and, per
 * interpreter, insertion/deletion AUC on a subset.
 */
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, createProgressBar, writeFileAtomic, type ImageClassifier, type Interpreter } from '@lico/core';
import { useBackend } from '@lico/backends';
import { insertionDeletion, maxSensitivity, road, sparseness } from '@lico/cam';
import type { CliIo } from '../run-cli';
import type { EvaluationResults, ExtraMetricsRecord, LocalisationRecord, SaliencyRecord } from '../results/results-schema';
import { firstSamples, loadDataset, type CliDataset } from './components';
import { loadTrainedModel, type RunEnvironmentOptions } from './load-model';
import { interpreterByName, localisationScores } from './saliency';
import { progressStream } from './train-run';
import { checkOutputPath } from './output-path';

/** Options of {@link evaluateRun}. */
export interface EvaluateRunOptions extends RunEnvironmentOptions {
  /** A directory written by `lico train`. */
  readonly model: string;
  readonly dataset: string;
  readonly interpreters: readonly string[];
  /** Images used for accuracy (first ones of the test split). */
  readonly limit: number | 'all';
  /** Images used for insertion/deletion (the first ones). */
  readonly saliencyImages: number;
  /** Pixels per insertion/deletion step. */
  readonly stepSize: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Output file (default `<model>/evaluation.json`). */
  readonly out?: string;
  /** Accuracy already measured on the same images with the same weights (skips that pass). */
  readonly knownAccuracy?: { readonly accuracy: number; readonly count: number };
  /** RISE masks per image (default 1000). */
  readonly riseMasks?: number;
  /** Extra metrics (`'road'`, `'sparseness'`, `'max-sensitivity'`) on the same maps. */
  readonly metrics?: readonly string[];
  /** Perturbations per image for max-sensitivity (default 10). */
  readonly sensitivitySamples?: number;
}

/** The radius of max-sensitivity's uniform noise (Quantus' default `lower_bound`), in normalised units. */
export const SENSITIVITY_RADIUS = 0.2;

/** How the extra metrics are measured (recorded with an evaluation that has them). */
export const CLI_METRICS_PROTOCOL = {
  road: 'pytorch-grad-cam ROAD: percentiles 10..90, noisy linear imputation (noise 0.01, seeded), change of the target logit; combined = (LeRF - MoRF)/2',
  sparseness: 'Quantus Sparseness: Gini index of |map| / max',
  maxSensitivity: `Quantus MaxSensitivity: uniform noise in [-${SENSITIVITY_RADIUS}, ${SENSITIVITY_RADIUS}] per input value (normalised units), max over the samples of ||e(x) - e(x+d)|| / ||e(x)||`,
} as const;

/** Top-1 accuracy of `model` over `dataset`, with a progress bar. */
export async function accuracyOf(model: ImageClassifier, dataset: CliDataset, batchSize: number, io: CliIo | null): Promise<{ accuracy: number; count: number }> {
  const total = dataset.numBatches({ batchSize });
  const bar = io ? createProgressBar({ total: dataset.size, label: 'accuracy', unit: 'img', stream: progressStream(io) }) : null;
  let correct = 0;
  let count = 0;
  for await (const batch of dataset.batches({ batchSize, seed: 0, shuffle: false, augment: false })) {
    try {
      const k = tf.tidy(() => {
        const logits = model.forward(batch.images, { training: false }).logits;
        return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(batch.labels, 'int32')), 'int32'));
      });
      correct += (await k.data())[0]!;
      k.dispose();
      count += batch.labels.shape[0];
      bar?.tick(batch.labels.shape[0]);
    } finally {
      tf.dispose([batch.images, batch.labels]);
    }
  }
  bar?.done();
  if (count === 0 || total === 0) throw new ConfigError(`The dataset '${dataset.name}' is empty.`);
  return { accuracy: correct / count, count };
}

function meanCurve(curves: readonly (readonly number[])[]): number[] {
  const n = curves[0]?.length ?? 0;
  const out = new Array<number>(n).fill(0);
  for (const c of curves) for (let i = 0; i < n; i++) out[i]! += c[i]! / curves.length;
  return out;
}

/** A dataset with ground-truth masks (`@lico/datasets`' `LocalisationDataset`). */
interface WithMasks {
  batchMasks(indices: ArrayLike<number>): Uint8Array;
}

function hasMasks(dataset: CliDataset): dataset is CliDataset & WithMasks {
  return typeof (dataset as Partial<WithMasks>).batchMasks === 'function';
}

/** What {@link saliencyMetrics} measures per interpreter. */
export interface SaliencyMetricsResult {
  readonly saliency: Record<string, SaliencyRecord>;
  /** Pointing game and energy in the mask, when the dataset has masks. */
  readonly localisation?: Record<string, LocalisationRecord>;
  /** The extra metrics asked for. */
  readonly metrics?: Record<string, ExtraMetricsRecord>;
}

/** ROAD, sparseness and max-sensitivity of one interpreter's maps, as asked for in `names`. */
async function extraMetrics(
  model: ImageClassifier,
  images: tf.Tensor4D,
  saliency: tf.Tensor3D,
  interpreter: Interpreter,
  targets: number[],
  options: { names: readonly string[]; seed: number; sensitivitySamples: number },
): Promise<ExtraMetricsRecord> {
  const t0 = performance.now();
  const out: { -readonly [K in keyof ExtraMetricsRecord]?: ExtraMetricsRecord[K] } = {};
  if (options.names.includes('road')) {
    const r = await road(model, images, saliency, { targets, seed: options.seed });
    Object.assign(out, { roadCombined: r.mean.combined, roadMorf: r.mean.morf, roadLerf: r.mean.lerf, roadPercentiles: r.percentiles });
  }
  if (options.names.includes('sparseness')) out.sparseness = (await sparseness(saliency)).mean;
  if (options.names.includes('max-sensitivity')) {
    const r = await maxSensitivity(model, images, interpreter, { targets, seed: options.seed, samples: options.sensitivitySamples, radius: SENSITIVITY_RADIUS });
    Object.assign(out, { maxSensitivity: r.mean, maxSensitivitySamples: options.sensitivitySamples, maxSensitivityRadius: SENSITIVITY_RADIUS });
  }
  return { ...out, numImages: images.shape[0], seconds: (performance.now() - t0) / 1000 };
}

/**
 * Insertion/deletion per interpreter on the first `count` images of `dataset`, and, when the
 * dataset has ground-truth masks, the pointing game and the energy in the mask of the same maps
 * (each interpreter explains the images once).
 */
export async function saliencyMetrics(
  model: ImageClassifier,
  dataset: CliDataset,
  options: {
    interpreters: readonly string[];
    count: number;
    stepSize: number;
    seed: number;
    io: CliIo | null;
    riseMasks?: number;
    metrics?: readonly string[];
    sensitivitySamples?: number;
  },
): Promise<SaliencyMetricsResult> {
  const count = Math.min(options.count, dataset.size);
  const out: Record<string, SaliencyRecord> = {};
  const iterator = dataset.batches({ batchSize: count, seed: 0, shuffle: false, augment: false })[Symbol.asyncIterator]();
  const first = await iterator.next();
  await iterator.return?.();
  if (first.done) throw new ConfigError(`The dataset '${dataset.name}' is empty.`);
  const batch = first.value;
  const labels = Array.from(await batch.labels.data());
  const [, h, w] = batch.images.shape;
  const masks = hasMasks(dataset) ? tf.tensor3d(Float32Array.from(dataset.batchMasks(batch.indices)), [count, h, w]) : null;
  const localisation: Record<string, LocalisationRecord> = {};
  const extra: Record<string, ExtraMetricsRecord> = {};
  const metricNames = options.metrics ?? [];
  try {
    const bar = options.io ? createProgressBar({ total: options.interpreters.length, label: `saliency (${count} images)`, unit: 'method', stream: progressStream(options.io) }) : null;
    for (const name of options.interpreters) {
      const t0 = performance.now();
      const interpreter = interpreterByName(name, options.seed, options.riseMasks ? { riseMasks: options.riseMasks } : {});
      const saliency = await interpreter.explain(model, batch.images, { targets: labels });
      try {
        const r = await insertionDeletion(model, batch.images, saliency, { preset: 'rise', targets: labels, stepSize: options.stepSize });
        out[name] = {
          insertion: r.insertion!.meanAuc,
          deletion: r.deletion!.meanAuc,
          insertionCurve: meanCurve(r.insertion!.curves),
          deletionCurve: meanCurve(r.deletion!.curves),
          stepSize: r.protocol.stepSize,
          numImages: count,
          seconds: (performance.now() - t0) / 1000,
        };
        if (masks) {
          const { hits, energy } = await localisationScores(saliency, masks);
          const scored = hits.filter((x): x is boolean => x !== null);
          const finite = energy.filter((x) => Number.isFinite(x));
          localisation[name] = {
            pointingGame: scored.length ? scored.filter(Boolean).length / scored.length : Number.NaN,
            energyInMask: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN,
            numImages: count,
          };
        }
        if (metricNames.length > 0) {
          extra[name] = await extraMetrics(model, batch.images, saliency, interpreter, labels, {
            names: metricNames,
            seed: options.seed,
            sensitivitySamples: options.sensitivitySamples ?? 10,
          });
        }
      } finally {
        saliency.dispose();
      }
      bar?.tick(1, `${name}: insertion ${out[name]!.insertion.toFixed(3)} deletion ${out[name]!.deletion.toFixed(3)}`);
    }
    bar?.done();
  } finally {
    tf.dispose([batch.images, batch.labels, ...(masks ? [masks] : [])]);
  }
  return { saliency: out, ...(masks ? { localisation } : {}), ...(metricNames.length > 0 ? { metrics: extra } : {}) };
}

/** The insertion/deletion protocol the CLI applies (recorded with every evaluation). */
export const CLI_SALIENCY_PROTOCOL = {
  preset: 'rise',
  target: 'ground-truth label (for the interpreter and the metric)',
  deletionBaseline: '0 in normalised space (the dataset mean)',
  insertionStart: 'Gaussian blur (RISE gkern: kernel 11, sigma 5)',
  score: 'softmax probability of the target',
  auc: 'trapezoid, 1/(n-1) spacing',
  images: 'the first N images of the test split',
} as const;

/** Evaluates a trained run and writes `evaluation.json`. */
export async function evaluateRun(options: EvaluateRunOptions, io: CliIo): Promise<{ evaluation: EvaluationResults; file: string }> {
  if (options.out !== undefined) checkOutputPath(options.out, 'file', '--out');
  const say = (line: string) => {
    if (!options.quiet) io.stderr(`${line}\n`);
  };
  const backend = options.backendReady
    ? { backend: tf.getBackend() }
    : await useBackend(options.backend, { log: options.quiet ? false : say, ...(options.threads ? { threads: options.threads } : {}) });
  const { model, results, dir } = await loadTrainedModel(options.model);
  try {
    const shape = results.dataset.imageShape;
    const dataOptions = {
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.download !== undefined ? { download: options.download } : {}),
      imageSize: [shape[0]!, shape[1]!] as const,
      channels: shape[2] === 1 ? (1 as const) : (3 as const),
    };
    const full = await loadDataset(options.dataset, 'test', dataOptions);
    if (full.classNames.length !== model.numClasses) {
      throw new ConfigError(`The model has ${model.numClasses} classes but '${options.dataset}' has ${full.classNames.length}.`);
    }
    const test = firstSamples(full, options.limit);
    say(`lico: evaluating ${results.mode} model from ${dir} on ${test.size} images of ${full.name}.`);
    const acc =
      options.knownAccuracy && options.knownAccuracy.count === test.size
        ? options.knownAccuracy
        : await accuracyOf(model, test, options.batchSize, options.quiet ? null : io);
    const { saliency, localisation, metrics } = await saliencyMetrics(model, full, {
      interpreters: options.interpreters,
      count: options.saliencyImages,
      stepSize: options.stepSize,
      seed: options.seed,
      io: options.quiet ? null : io,
      ...(options.riseMasks ? { riseMasks: options.riseMasks } : {}),
      ...(options.metrics && options.metrics.length > 0 ? { metrics: options.metrics } : {}),
      ...(options.sensitivitySamples ? { sensitivitySamples: options.sensitivitySamples } : {}),
    });
    const evaluation: EvaluationResults = {
      schema: 'lico.evaluation/1',
      model: dir,
      dataset: options.dataset,
      accuracy: acc.accuracy,
      numImages: acc.count,
      saliency,
      ...(localisation ? { localisation } : {}),
      ...(metrics ? { metrics } : {}),
      protocol: metrics ? { ...CLI_SALIENCY_PROTOCOL, metrics: CLI_METRICS_PROTOCOL } : CLI_SALIENCY_PROTOCOL,
      backend: backend.backend,
    };
    const file = resolve(options.out ?? join(dir, 'evaluation.json'));
    await writeFileAtomic(file, `${JSON.stringify(evaluation, null, 2)}\n`);
    say(`lico: accuracy ${(100 * acc.accuracy).toFixed(2)} %; ${Object.entries(saliency).map(([k, v]) => `${k} insertion ${v.insertion.toFixed(3)} deletion ${v.deletion.toFixed(3)}`).join('; ')}. Written to ${file}`);
    return { evaluation, file };
  } finally {
    model.dispose();
  }
}
