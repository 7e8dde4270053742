/**
 * Tiny conforming stand-ins for the plugin interfaces, used by the objective and trainer tests
 * (not exported by the package). Everything is seeded, so two constructions with the same seed
 * hold bitwise-equal weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Variable } from '@tensorflow/tfjs-core';
import { createRng } from '../../rng';
import type {
  AlignmentInputs,
  AlignmentLoss,
  Batch,
  BatchOptions,
  ClassifierOutput,
  Dataset,
  ForwardOptions,
  ImageClassifier,
  MappingNet,
  PromptLearner,
} from '../../spec';

let uid = 0;
const unique = (name: string): string => `${name}-${++uid}`;

function seededTensor(shape: number[], seed: number, scale: number): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * scale;
  return tf.tensor(data, shape);
}

/**
 * A small conv classifier: conv 3×3 stride 2 (`[N,6,6,2]` → `[N,3,3,C]`), a batch-norm-like
 * running mean (non-trainable, updated in training), leaky ReLU, global average pool, dense to K.
 */
export function createTinyClassifier(options: { seed?: number; channels?: number; numClasses?: number } = {}): ImageClassifier {
  const seed = options.seed ?? 1;
  const c = options.channels ?? 4;
  const k = options.numClasses ?? 3;
  const kernel = tf.tidy(() => tf.variable(seededTensor([3, 3, 2, c], seed, 0.3), true, unique('tiny-kernel')));
  const bias = tf.tidy(() => tf.variable(tf.zeros([c]), true, unique('tiny-bias')));
  const dense = tf.tidy(() => tf.variable(seededTensor([c, k], seed + 1, 0.3), true, unique('tiny-dense')));
  const denseBias = tf.tidy(() => tf.variable(tf.zeros([k]), true, unique('tiny-dense-bias')));
  const runningMean = tf.tidy(() => tf.variable(tf.zeros([c]), false, unique('tiny-running-mean')));
  const named = { 'conv/kernel': kernel, 'conv/bias': bias, 'bn/running_mean': runningMean, 'fc/kernel': dense, 'fc/bias': denseBias };
  const head = (fm: tf.Tensor4D): ClassifierOutput => {
    const embedding = tf.mean(fm, [1, 2]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(embedding, dense), denseBias) as tf.Tensor2D;
    return { featureMap: fm, embedding, logits };
  };
  const stem = (x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D => {
    const z = tf.add(tf.conv2d(x, kernel as tf.Tensor4D, 2, 'same'), bias) as tf.Tensor4D;
    let mean: tf.Tensor = runningMean;
    if (opts.training) {
      mean = tf.mean(z, [0, 1, 2]);
      runningMean.assign(tf.add(tf.mul(runningMean, 0.9), tf.mul(mean, 0.1)));
    }
    return tf.leakyRelu(tf.sub(z, mean), 0.1) as tf.Tensor4D;
  };
  return {
    specificationVersion: 'v1',
    name: 'tiny-conv',
    numClasses: k,
    inputShape: [6, 6, 2],
    config: { channels: c, numClasses: k },
    layerNames: ['stem'],
    forward: (x, opts) => head(stem(x, opts)),
    forwardTo: (x, _layer, opts) => stem(x, opts),
    forwardFrom: (a) => head(a),
    trainableVariables: () => [kernel, bias, dense, denseBias],
    nonTrainableVariables: () => [runningMean],
    namedVariables: () => named,
    countParams: () => 3 * 3 * 2 * c + c + c * k + k,
    dispose: () => tf.dispose([kernel, bias, dense, denseBias, runningMean]),
  };
}

/** A prompt learner stand-in: `promptFeatures[m,k] = tanh(classEmbedding[k] + roll(ctx, m)[0..D))`. */
export function createStandInPromptLearner(options: { seed?: number; numClasses?: number; numVariants?: number; dim?: number } = {}): PromptLearner {
  const seed = options.seed ?? 7;
  const k = options.numClasses ?? 3;
  const m = options.numVariants ?? 2;
  const d = options.dim ?? 5;
  const ctx = tf.tidy(() => tf.variable(seededTensor([m, d], seed, 0.5), true, unique('stand-in-ctx')));
  const classEmb = seededTensor([k, d], seed + 1, 1);
  return {
    specificationVersion: 'v1',
    classNames: Array.from({ length: k }, (_, i) => `class-${i}`),
    numVariants: m,
    outputDim: d,
    config: { kind: 'stand-in' },
    encode: () =>
      tf.tidy(() => {
        const rows: tf.Tensor[] = [];
        for (let r = 0; r < m; r++) {
          const rolled = r === 0 ? ctx : tf.concat([tf.slice(ctx, [m - r, 0], [r, d]), tf.slice(ctx, [0, 0], [m - r, d])]);
          rows.push(tf.tanh(tf.add(tf.expandDims(tf.sum(rolled, 0), 0), classEmb)));
        }
        const promptFeatures = tf.stack(rows) as tf.Tensor3D; // [M,K,D]
        const classFeatures = tf.squeeze(tf.slice(promptFeatures, [0, 0, 0], [1, k, d]), [0]) as tf.Tensor2D;
        return { classFeatures, promptFeatures };
      }),
    trainableVariables: () => [ctx],
    namedVariables: () => ({ ctx }),
    dispose: () => tf.dispose([ctx, classEmb]),
  };
}

/** A mapping-net stand-in: `[M,K,D]·W` → `[M,K,out]` with dropout 0.5 seeded by the forward options' `seed`. */
export function createStandInMappingNet(options: { seed?: number; inputDim?: number; outputDim?: number } = {}): MappingNet & { readonly weight: Variable } {
  const seed = options.seed ?? 11;
  const d = options.inputDim ?? 5;
  const out = options.outputDim ?? 9;
  const weight = tf.tidy(() => tf.variable(seededTensor([d, out], seed, 0.5), true, unique('stand-in-mapping')));
  return {
    specificationVersion: 'v1',
    inputDim: d,
    outputDim: out,
    config: { kind: 'stand-in', dropout: 0.5 },
    weight,
    apply: (pf, opts) =>
      tf.tidy(() => {
        const [mm, kk] = pf.shape;
        const y = tf.reshape(tf.matMul(tf.reshape(pf, [mm * kk, d]), weight), [mm, kk, out]) as tf.Tensor3D;
        const s = opts.seed;
        return opts.training && s !== undefined ? (tf.dropout(y, 0.5, undefined, s) as tf.Tensor3D) : y;
      }),
    trainableVariables: () => [weight],
    namedVariables: () => ({ weight }),
    dispose: () => weight.dispose(),
  };
}

/** MM stand-in: mean squared difference of the Gram matrices of the normalised embeddings, divided by τ. */
export function createStandInMm(): AlignmentLoss {
  const norm = (x: tf.Tensor2D): tf.Tensor2D => tf.div(x, tf.add(tf.norm(x, 2, 1, true), 1e-6)) as tf.Tensor2D;
  return {
    specificationVersion: 'v1',
    name: 'stand-in-mm',
    config: {},
    compute: (inp: AlignmentInputs) =>
      tf.tidy(() => {
        const e = norm(inp.imageEmbeddings);
        const t = norm(inp.textEmbeddings);
        const ge = tf.matMul(e, e, false, true);
        const gt = tf.matMul(t, t, false, true);
        return tf.div(tf.mean(tf.square(tf.sub(ge, gt))), inp.temperature) as tf.Scalar;
      }),
  };
}

/** OT stand-in: mean squared difference between the mean image point and the mean text point per sample. */
export function createStandInOt(): AlignmentLoss {
  return {
    specificationVersion: 'v1',
    name: 'stand-in-ot',
    config: {},
    compute: (inp: AlignmentInputs) =>
      tf.tidy(() => {
        const f = tf.mean(tf.tanh(inp.imagePoints), 1); // [N,HW]
        const g = tf.mean(tf.tanh(inp.textPoints), 1); // [N,HW]
        return tf.mean(tf.square(tf.sub(f, g))) as tf.Scalar;
      }),
  };
}

/**
 * A synthetic dataset of `size` images `[6,6,2]` whose label is encoded in the mean of a quadrant.
 * Order is a pure function of (seed, epoch); augmentation (flip + noise) of (seed, epoch, batch).
 */
export function createStandInDataset(options: { size?: number; seed?: number; numClasses?: number; name?: string; poison?: (batchIndex: number, epoch: number) => boolean } = {}): Dataset {
  const size = options.size ?? 20;
  const k = options.numClasses ?? 3;
  const rng = createRng(options.seed ?? 3);
  const images = new Float32Array(size * 72);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    labels[i] = i % k;
    for (let j = 0; j < 72; j++) images[i * 72 + j] = rng.normal() * 0.5 + (j % (k + 1) === labels[i]! ? 1 : 0);
  }
  const numBatches = (o: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number => (o.dropLast ? Math.floor(size / o.batchSize) : Math.ceil(size / o.batchSize));
  return {
    specificationVersion: 'v1',
    name: options.name ?? 'stand-in',
    size,
    classNames: Array.from({ length: k }, (_, i) => `class-${i}`),
    imageShape: [6, 6, 2],
    numBatches,
    async *batches(o: BatchOptions): AsyncGenerator<Batch> {
      const epoch = o.epoch ?? 0;
      const order = o.shuffle === false ? Int32Array.from({ length: size }, (_, i) => i) : createRng(o.seed * 1000 + epoch).permutation(size);
      const nb = numBatches(o);
      for (let b = o.skipBatches ?? 0; b < nb; b++) {
        const idx = order.slice(b * o.batchSize, Math.min(size, (b + 1) * o.batchSize));
        const data = new Float32Array(idx.length * 72);
        const lab = new Int32Array(idx.length);
        const aug = createRng(o.seed * 1_000_003 + epoch * 1009 + b);
        idx.forEach((s, r) => {
          lab[r] = labels[s]!;
          const flip = o.augment ? aug.next() < 0.5 : false;
          for (let y = 0; y < 6; y++)
            for (let x = 0; x < 6; x++)
              for (let ch = 0; ch < 2; ch++) {
                const src = s * 72 + (y * 6 + (flip ? 5 - x : x)) * 2 + ch;
                data[r * 72 + (y * 6 + x) * 2 + ch] = images[src]! + (o.augment ? aug.normal() * 0.1 : 0);
              }
        });
        if (options.poison?.(b, epoch)) data[0] = Number.NaN;
        yield { images: tf.tensor4d(data, [idx.length, 6, 6, 2]), labels: tf.tensor1d(lab, 'int32'), indices: idx };
      }
    },
  };
}
