import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SPECIFICATION_VERSION, ShapeError, type Batch, type BatchOptions, type Dataset } from '@lico/core';
import { addNoise, checkAugmentation, drawAugmentParams, writeAugmentedImage, writeImage, type Augmentation } from './augment';
import { normalizationTable, type Normalization } from './normalization';
import { derivedRng } from './seeds';

/** Where a dataset's samples come from: raw uint8 HWC pixels and integer labels. */
export interface SampleSource {
  readonly size: number;
  /** `[H,W,channels]` of every image. */
  readonly imageShape: readonly [number, number, number];
  /** The array and offset of sample `i`'s H*W*C uint8 pixels (HWC). */
  pixels(i: number): { readonly data: Uint8Array; readonly offset: number };
  /** The label of sample `i`. */
  label(i: number): number;
}

/** Time spent by the input pipeline during the latest `batches()` iteration. */
export interface PipelineStats {
  /** Batches delivered. */
  batches: number;
  /** Milliseconds spent building batches (decode, normalise, augment). */
  buildMs: number;
  /** Milliseconds the consumer waited for the first batch (nothing can prefetch it). */
  firstWaitMs: number;
  /** Milliseconds the consumer waited, in total, for every batch after the first (0 when prefetch keeps up). */
  waitMs: number;
  /** The longest single wait after the first batch, in milliseconds. */
  maxWaitMs: number;
}

/** CPU-side arrays of one batch, before they become tensors. */
export interface BatchArrays {
  /** `[N,H,W,C]` normalised (and possibly augmented) pixels. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly indices: Int32Array;
}

/** A lico dataset: the core `Dataset` plus normalisation, augmentation and raw access. */
export interface LicoDataset extends Dataset {
  /** Normalisation batches apply. */
  readonly normalization: Normalization;
  /** Training augmentation applied when `augment: true`. */
  readonly augmentation: Augmentation;
  /** Label of sample `i`. */
  label(i: number): number;
  /** Raw uint8 HWC pixels of sample `i` (a view or a copy; do not modify). */
  image(i: number): Uint8Array;
  /** Sample indices of batch `batchIndex` of the epoch `options` describe. */
  batchIndices(options: BatchOptions, batchIndex: number): Int32Array;
  /** Builds batch `batchIndex` of an epoch as typed arrays (what `batches()` turns into tensors). */
  batchArrays(options: BatchOptions, batchIndex: number): BatchArrays;
  /** Input-pipeline timings of the latest `batches()` iteration. */
  readonly pipelineStats: PipelineStats;
  /** The same samples with another augmentation. */
  withAugmentation(augmentation: Augmentation): LicoDataset;
}

/** An in-memory dataset: the images as read (uint8 HWC per image) and int32 labels. */
export interface InMemoryDataset extends LicoDataset {
  /** `size * H * W * C` uint8 pixels, HWC per image. */
  readonly images: Uint8Array;
  /** `size` labels. */
  readonly labels: Int32Array;
  withAugmentation(augmentation: Augmentation): InMemoryDataset;
}

/** Options of {@link createDataset}. */
export interface CreateDatasetOptions {
  readonly name: string;
  readonly source: SampleSource;
  readonly classNames: readonly string[];
  readonly normalization: Normalization;
  readonly augmentation?: Augmentation;
}

const SHUFFLE_TAG = 0x5eed;
const AUGMENT_TAG = 0xa096;

function checkBatchOptions(options: BatchOptions, size: number): void {
  const { batchSize, seed } = options;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}.`);
  if (!Number.isFinite(seed)) throw new ConfigError(`seed must be a finite number, got ${seed}.`);
  const epoch = options.epoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) throw new ConfigError(`epoch must be an integer >= 0, got ${epoch}.`);
  if (size === 0) throw new ConfigError('The dataset is empty: there is nothing to batch.');
}

/** Builds a dataset from a sample source: seeded shuffling, batching, augmentation and prefetch. */
export function createDataset(options: CreateDatasetOptions): LicoDataset {
  const { name, source, classNames, normalization } = options;
  const augmentation = options.augmentation ?? {};
  checkAugmentation(augmentation);
  const [h, w, c] = source.imageShape;
  if (normalization.mean.length !== c && normalization.mean.length !== 1) {
    throw new ShapeError(`normalization.mean has ${normalization.mean.length} values for images with ${c} channels.`);
  }
  const lut = normalizationTable(normalization, c);
  const pixelsPerImage = h * w * c;
  const stats: PipelineStats = { batches: 0, buildMs: 0, firstWaitMs: 0, waitMs: 0, maxWaitMs: 0 };
  const orders = new Map<string, Int32Array>();

  const order = (o: BatchOptions): Int32Array => {
    const epoch = o.epoch ?? 0;
    if (o.shuffle === false) {
      const id = new Int32Array(source.size);
      for (let i = 0; i < id.length; i++) id[i] = i;
      return id;
    }
    const key = `${o.seed}/${epoch}`;
    let p = orders.get(key);
    if (!p) {
      p = derivedRng(o.seed, epoch, SHUFFLE_TAG).permutation(source.size);
      if (orders.size > 4) orders.clear();
      orders.set(key, p);
    }
    return p;
  };

  const numBatches = (o: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number => {
    if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw new ConfigError(`batchSize must be a positive integer, got ${o.batchSize}.`);
    return o.dropLast === true ? Math.floor(source.size / o.batchSize) : Math.ceil(source.size / o.batchSize);
  };

  const batchIndices = (o: BatchOptions, b: number): Int32Array => {
    checkBatchOptions(o, source.size);
    const nb = numBatches(o);
    if (!Number.isInteger(b) || b < 0 || b >= nb) throw new ConfigError(`batch index ${b} is outside 0..${nb - 1}.`);
    const start = b * o.batchSize;
    return order(o).slice(start, Math.min(start + o.batchSize, source.size));
  };

  const batchArrays = (o: BatchOptions, b: number): BatchArrays => {
    const indices = batchIndices(o, b);
    const n = indices.length;
    const images = new Float32Array(n * pixelsPerImage);
    const labels = new Int32Array(n);
    const augment = o.augment === true;
    const rng = augment ? derivedRng(o.seed, o.epoch ?? 0, b, AUGMENT_TAG) : undefined;
    const padMode = augmentation.padMode ?? 'zero';
    const noise = augmentation.noiseStd ?? 0;
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      const { data, offset } = source.pixels(i);
      labels[k] = source.label(i);
      if (rng) {
        const params = drawAugmentParams(augmentation, rng);
        writeAugmentedImage(data, offset, h, w, c, lut, params, padMode, images, k * pixelsPerImage);
        if (noise > 0) addNoise(images, k * pixelsPerImage, pixelsPerImage, noise, rng);
      } else {
        writeImage(data, offset, h * w, c, lut, images, k * pixelsPerImage);
      }
    }
    return { images, labels, indices };
  };

  async function* batches(o: BatchOptions): AsyncGenerator<Batch> {
    checkBatchOptions(o, source.size);
    const nb = numBatches(o);
    const skip = o.skipBatches ?? 0;
    if (!Number.isInteger(skip) || skip < 0 || skip > nb) throw new ConfigError(`skipBatches must be an integer in 0..${nb}, got ${skip}.`);
    Object.assign(stats, { batches: 0, buildMs: 0, firstWaitMs: 0, waitMs: 0, maxWaitMs: 0 });
    // Prefetch: batch b+1 is built on the event loop (setImmediate) while the consumer works on b.
    const schedule = (b: number): Promise<BatchArrays> =>
      new Promise((resolve, reject) => {
        setImmediate(() => {
          const t0 = performance.now();
          try {
            resolve(batchArrays(o, b));
          } catch (error) {
            reject(error);
          }
          stats.buildMs += performance.now() - t0;
        });
      });
    let pending = skip < nb ? schedule(skip) : undefined;
    for (let b = skip; b < nb; b++) {
      const t0 = performance.now();
      const ready = await pending!;
      const waited = performance.now() - t0;
      if (b === skip) stats.firstWaitMs = waited;
      else {
        stats.waitMs += waited;
        stats.maxWaitMs = Math.max(stats.maxWaitMs, waited);
      }
      pending = b + 1 < nb ? schedule(b + 1) : undefined;
      stats.batches++;
      const n = ready.indices.length;
      yield {
        images: tf.tensor4d(ready.images, [n, h, w, c], 'float32'),
        labels: tf.tensor1d(ready.labels, 'int32'),
        indices: ready.indices,
      };
    }
  }

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name,
    size: source.size,
    classNames,
    imageShape: [h, w, c],
    normalization,
    augmentation,
    label: (i) => source.label(i),
    image: (i) => {
      const { data, offset } = source.pixels(i);
      return data.subarray(offset, offset + pixelsPerImage);
    },
    numBatches,
    batches,
    batchIndices,
    batchArrays,
    pipelineStats: stats,
    withAugmentation: (a) => createDataset({ ...options, augmentation: a }),
  };
}

/** Options of {@link createInMemoryDataset}. */
export interface InMemoryDatasetOptions {
  readonly name: string;
  /** `size * H * W * C` uint8 pixels, HWC per image. */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly imageShape: readonly [number, number, number];
  readonly classNames: readonly string[];
  readonly normalization: Normalization;
  readonly augmentation?: Augmentation;
}

/** A dataset over images held in memory (uint8 HWC) with int32 labels. */
export function createInMemoryDataset(options: InMemoryDatasetOptions): InMemoryDataset {
  const { images, labels, imageShape, classNames } = options;
  const per = imageShape[0] * imageShape[1] * imageShape[2];
  if (!imageShape.every((d) => Number.isInteger(d) && d > 0)) throw new ShapeError(`imageShape must be three positive integers, got [${imageShape.join(',')}].`);
  if (images.length !== labels.length * per) {
    throw new ShapeError(`images hold ${images.length} bytes but ${labels.length} labels × [${imageShape.join(',')}] need ${labels.length * per}.`);
  }
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0 || l >= classNames.length) throw new ConfigError(`label ${l} of sample ${i} is outside 0..${classNames.length - 1} (${classNames.length} classes).`);
  }
  const source: SampleSource = {
    size: labels.length,
    imageShape,
    pixels: (i) => ({ data: images, offset: i * per }),
    label: (i) => labels[i]!,
  };
  const base = createDataset({ name: options.name, source, classNames, normalization: options.normalization, augmentation: options.augmentation });
  return {
    ...base,
    // `pipelineStats` must stay the live object of `base`.
    pipelineStats: base.pipelineStats,
    images,
    labels,
    withAugmentation: (a) => createInMemoryDataset({ ...options, augmentation: a }),
  };
}
