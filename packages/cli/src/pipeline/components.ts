/**
 * Builds the pieces of a run from the CLI's names: datasets, backbones, the text side and the
 * objective. Only the packages' public exports are used.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, createLicoObjective, UnknownNameError, type ForwardOptions, type ImageClassifier, type LicoObjective, type MappingNet } from '@lico/core';
import * as backbones from '@lico/backbones';
import * as datasets from '@lico/datasets';
import { AUGMENT_CHOICES, MM_SIGN_CHOICES, OT_GRADIENT_CHOICES, PROMPT_VARIANT_CHOICES, TEMPERATURE_CHOICES } from '../args/command-specs';
import { createManifoldMatchingLoss, createOptimalTransportLoss } from '@lico/losses';
import { createMappingNet, createPromptLearner, createTemperature, createWordVectorEncoder, loadClipTextEncoder } from '@lico/text';

/** A dataset as the CLI uses it (what `@lico/datasets` returns). */
export type CliDataset = datasets.LicoDataset;

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** Directory with the dataset's files (default: the datasets package's search order). */
  readonly dataDir?: string;
  /** Allow a download into the cache when no copy is found. */
  readonly download?: boolean;
  /** Resize folder images to `[height,width]` (folders only). */
  readonly imageSize?: readonly [number, number];
  /** Channels of folder images (folders only). */
  readonly channels?: 1 | 3;
}

type DatasetLoader = (options: { split: 'train' | 'test'; root?: string; download?: boolean }) => Promise<CliDataset>;

/** Loaders of the named datasets that this build of `@lico/datasets` provides. */
function namedLoaders(): Record<string, DatasetLoader> {
  const mod = datasets as unknown as Record<string, unknown>;
  const out: Record<string, DatasetLoader> = {};
  const byExport: Record<string, string> = { 'fashion-mnist': 'fashionMnist', mnist: 'mnist', cifar10: 'cifar10', cifar100: 'cifar100', svhn: 'svhn' };
  for (const [name, exportName] of Object.entries(byExport)) {
    if (typeof mod[exportName] === 'function') out[name] = mod[exportName] as DatasetLoader;
  }
  return out;
}

/**
 * `fashion-mnist-localisation`: `@lico/datasets`' synthetic localisation benchmark built from
 * Fashion-MNIST (one item at a random position and scale on a 32×32 canvas with 4 distractor
 * patches and noise; its silhouette is the mask). The training split draws its objects from
 * Fashion-MNIST's training images, the test split from its test images; both are fixed (their own
 * seeds), whatever the run's seed.
 */
export const LOCALISATION_BENCHMARK = {
  name: 'fashion-mnist-localisation',
  canvasSize: 32,
  train: { count: 20000, seed: 1 },
  test: { count: 2000, seed: 2 },
} as const;

/** Dataset names that can be loaded in this build. */
export function availableDatasets(): string[] {
  return [...Object.keys(namedLoaders()), LOCALISATION_BENCHMARK.name, 'folder:PATH', 'localisation:PATH'];
}

/**
 * Loads `spec` (`'fashion-mnist'`, …, or `'folder:PATH'`) split `split`. A name this build cannot
 * load throws an {@link UnknownNameError} listing the ones it can.
 */
export async function loadDataset(spec: string, split: 'train' | 'test', options: LoadDatasetOptions = {}): Promise<CliDataset> {
  if (spec.startsWith('folder:')) {
    // A folder of class sub-folders; with train/ and test/ inside, each split reads its own.
    const root = spec.slice('folder:'.length);
    const splitDir = join(root, split);
    return datasets.imageFolder({ root: existsSync(splitDir) ? splitDir : root, ...(options.imageSize ? { size: options.imageSize } : {}), ...(options.channels ? { channels: options.channels } : {}) });
  }
  if (spec.startsWith('localisation:')) {
    return datasets.localisationFolder(spec.slice('localisation:'.length), {
      ...(options.imageSize ? { size: options.imageSize } : {}),
      ...(options.channels ? { channels: options.channels } : {}),
    });
  }
  if (spec === LOCALISATION_BENCHMARK.name) {
    const source = await loadDataset('fashion-mnist', split, options);
    const part = LOCALISATION_BENCHMARK[split];
    return datasets.createLocalisationBenchmark({ source, count: part.count, seed: part.seed, canvasSize: LOCALISATION_BENCHMARK.canvasSize });
  }
  const loaders = namedLoaders();
  const loader = loaders[spec];
  if (!loader) throw new UnknownNameError('dataset', spec, Object.keys(loaders));
  return loader({ split, ...(options.dataDir !== undefined ? { root: options.dataDir } : {}), ...(options.download !== undefined ? { download: options.download } : {}) });
}

/** The first `count` samples (or all). */
export function firstSamples(dataset: CliDataset, count: number | 'all'): CliDataset {
  if (count === 'all' || count >= dataset.size) return dataset;
  return datasets.subset(dataset, Int32Array.from({ length: count }, (_, i) => i), `${dataset.name}[:${count}]`);
}

/** A class-balanced, seeded labelled subset of `labels` samples (or all). */
export function labelledSubset(dataset: CliDataset, labels: number | 'all', seed: number): CliDataset {
  if (labels === 'all' || labels >= dataset.size) return dataset;
  return datasets.limitedLabels(dataset, { labelsTotal: labels, seed }).labelled;
}

/** Backbone names this build provides. */
export function availableBackbones(): string[] {
  return [...Object.keys(backbones.WIDE_RESNET_PRESETS), ...Object.keys(backbones.RESNET_DEPTHS).map((d) => `resnet-${d}`), 'preact-resnet-18'];
}

/** Options of {@link createBackbone}. */
export interface BackboneOptions {
  readonly numClasses: number;
  readonly inputChannels: number;
  readonly seed: number;
}

/** Creates a classifier by name (`'wrn-28-2'`, …). */
export function createBackbone(name: string, options: BackboneOptions): ImageClassifier {
  const presets = backbones.WIDE_RESNET_PRESETS as Record<string, unknown>;
  if (name in presets) {
    return backbones.createWideResNet({
      preset: name as backbones.WideResNetPreset,
      numClasses: options.numClasses,
      inputChannels: options.inputChannels,
      seed: options.seed,
    });
  }
  const resnet = /^resnet-(\d+)$/.exec(name);
  if (resnet && (resnet[1] ?? '') in backbones.RESNET_DEPTHS) {
    // The CIFAR stem (3×3 conv, no max pool) suits the small images of these datasets.
    return backbones.createResNet({ depth: Number(resnet[1]) as backbones.ResNetDepth, stem: 'cifar', numClasses: options.numClasses, inputChannels: options.inputChannels, seed: options.seed });
  }
  if (name === 'preact-resnet-18') {
    return backbones.createPreActResNet({ depth: 18, numClasses: options.numClasses, inputChannels: options.inputChannels, seed: options.seed });
  }
  throw new UnknownNameError('backbone', name, availableBackbones());
}

/** The spatial size `H*W` of the model's last feature map (`@lico/core`'s). */
export { featurePositions } from '@lico/core';

/**
 * The mapping net with its dropout mask drawn from the per-step `seed` the LICO objective passes
 * in the forward options (core derives it from the run seed and the step), so a resumed run draws
 * the same masks as an uninterrupted one. (Works around `@lico/text`'s `createMappingNet`, which
 * draws masks from an internal generator that checkpoints do not hold.) Same variables, same
 * initialisation, same layer order: `Linear → Dropout → ReLU → Linear`.
 */
export function withStepSeededDropout(net: MappingNet, dropout: number): MappingNet {
  const vars = net.namedVariables();
  const w1 = vars['mapping.fc1.weight'];
  const b1 = vars['mapping.fc1.bias'];
  const w2 = vars['mapping.fc2.weight'];
  const b2 = vars['mapping.fc2.bias'];
  if (!w1 || !b1 || !w2 || !b2 || !(dropout > 0)) return net;
  return {
    specificationVersion: net.specificationVersion,
    inputDim: net.inputDim,
    outputDim: net.outputDim,
    config: { ...net.config, dropoutMasks: 'seeded per step by the objective (resumable)' },
    apply(promptFeatures: tf.Tensor3D, forward: ForwardOptions): tf.Tensor3D {
      const seed = (forward as ForwardOptions & { seed?: number }).seed;
      if (!forward.training || seed === undefined) return net.apply(promptFeatures, forward);
      const [m, k, d] = promptFeatures.shape;
      if (d !== net.inputDim) return net.apply(promptFeatures, forward);
      return tf.tidy(() => {
        let h: tf.Tensor = tf.add(tf.matMul(tf.reshape(promptFeatures, [m * k, d]), w1), b1);
        h = tf.relu(tf.dropout(h, dropout, undefined, seed));
        return tf.reshape(tf.add(tf.matMul(h as tf.Tensor2D, w2), b2), [m, k, net.outputDim]) as tf.Tensor3D;
      });
    },
    trainableVariables: () => net.trainableVariables(),
    namedVariables: () => net.namedVariables(),
    dispose: () => net.dispose(),
  };
}

/** An `--augment` value. */
export type AugmentName = (typeof AUGMENT_CHOICES)[number];

/** The training augmentation a name stands for, resolved for images of `imageShape`. */
export interface ResolvedAugmentation {
  /** The concrete name (`auto` resolved). */
  readonly name: Exclude<AugmentName, 'auto'>;
  readonly augmentation: datasets.Augmentation;
}

/**
 * Resolves `--augment`: `crop` = random crop with 4-pixel zero padding, `crop-flip` adds a random
 * horizontal flip, `crop-flip-noise` adds Gaussian noise of std 0.1 in normalised space (the
 * authors' limited-label setting). `auto` (the spec): crop-flip for 32×32 images, crop for 28×28,
 * none for other sizes.
 */
export function resolveAugmentation(name: string, imageShape: readonly [number, number, number]): ResolvedAugmentation {
  if (!(AUGMENT_CHOICES as readonly string[]).includes(name)) throw new UnknownNameError('augmentation', name, AUGMENT_CHOICES);
  const [h, w] = imageShape;
  const concrete: Exclude<AugmentName, 'auto'> =
    name !== 'auto' ? (name as Exclude<AugmentName, 'auto'>) : h === 32 && w === 32 ? 'crop-flip' : h === 28 && w === 28 ? 'crop' : 'none';
  const table: Record<Exclude<AugmentName, 'auto'>, datasets.Augmentation> = {
    none: {},
    crop: { cropPadding: 4, padMode: 'zero' },
    'crop-flip': { cropPadding: 4, padMode: 'zero', flip: true },
    'crop-flip-noise': { cropPadding: 4, padMode: 'zero', flip: true, noiseStd: 0.1 },
  };
  return { name: concrete, augmentation: table[concrete] };
}

/** The method's named choices on the text side (defaults = the spec). */
export interface MethodChoices {
  /** Sign of the distances in the MM softmax: `minus` (spec) or `plus` (the authors' code). */
  readonly mmSign?: (typeof MM_SIGN_CHOICES)[number];
  /** `divisor` (`d/τ`, spec) or `clip-scale` (`d·exp(τ)`, CLIP). */
  readonly temperature?: (typeof TEMPERATURE_CHOICES)[number];
  /** What L_OT passes back: `detached-plan` (spec), `differentiable-plan`, `none` (the authors' `no_grad`). */
  readonly otGradient?: (typeof OT_GRADIENT_CHOICES)[number];
  /** `roll` (variant r = context rolled by r, spec), `shift-one` (the authors' corrected code), `class-specific` contexts. */
  readonly promptVariants?: (typeof PROMPT_VARIANT_CHOICES)[number];
}

/** Options of {@link createObjective}. */
export interface ObjectiveOptions extends MethodChoices {
  readonly mode: 'baseline' | 'lico';
  /** `'word-vectors'`, `'clip'` (needs a directory) or `'clip:DIR'`. */
  readonly text: string;
  readonly classNames: readonly string[];
  /** `H*W` of the feature map (the mapping net's output width). */
  readonly positions: number;
  readonly alpha: number;
  readonly beta: number;
  readonly seed: number;
  /** Learnable context vectors (default 12). */
  readonly numContext?: number;
}

/** The objective and what the text side is, for results.json. */
export interface BuiltObjective {
  readonly objective: LicoObjective;
  readonly text: null | { spec: string; encoder: string; promptLearner: Record<string, unknown>; mappingNet: Record<string, unknown>; temperature: Record<string, unknown> };
  /** Frees the text side (encoder, prompt learner, mapping net, temperature). */
  dispose(): void;
}

/** Builds the baseline or LICO objective with its text side. */
export async function createObjective(options: ObjectiveOptions): Promise<BuiltObjective> {
  if (options.mode === 'baseline') {
    const objective = createLicoObjective({ mode: 'baseline' });
    return { objective, text: null, dispose: () => objective.dispose?.() };
  }
  let encoder;
  if (options.text === 'word-vectors') {
    encoder = await createWordVectorEncoder({ texts: [...options.classNames, '.'], unknownWords: 'hash', seed: options.seed });
  } else if (options.text.startsWith('clip:')) {
    encoder = await loadClipTextEncoder(options.text.slice('clip:'.length));
  } else if (options.text === 'clip') {
    throw new ConfigError("--text clip needs the weights: give a local Hugging Face CLIP directory as --text clip:DIR (config.json, model.safetensors, vocab.json, merges.txt).");
  } else {
    throw new UnknownNameError('text encoder', options.text, ['word-vectors', 'clip:DIR']);
  }
  const variants = options.promptVariants ?? 'roll';
  if (!(PROMPT_VARIANT_CHOICES as readonly string[]).includes(variants)) throw new UnknownNameError('prompt variants', variants, PROMPT_VARIANT_CHOICES);
  const promptLearner = createPromptLearner({
    encoder,
    classNames: options.classNames,
    seed: options.seed,
    ...(options.numContext ? { numContext: options.numContext } : {}),
    variants: variants === 'shift-one' ? 'shift-one' : 'rotate',
    classSpecificContext: variants === 'class-specific',
  });
  const mappingNet = withStepSeededDropout(createMappingNet({ inputDim: promptLearner.outputDim, outputDim: options.positions, seed: options.seed }), 0.5);
  const temperature = createTemperature();
  const objective = createLicoObjective({
    mode: 'lico',
    promptLearner,
    mappingNet,
    temperature,
    // A weight of 0 leaves the term out (MM only / OT only ablations).
    mm: options.alpha > 0 ? createManifoldMatchingLoss({ sign: (options.mmSign ?? 'minus') === 'plus' ? 'positive' : 'negative', temperatureMode: options.temperature ?? 'divisor' }) : null,
    ot: options.beta > 0 ? createOptimalTransportLoss({ gradient: options.otGradient ?? 'detached-plan' }) : null,
    alpha: options.alpha,
    beta: options.beta,
  });
  return {
    objective,
    text: {
      spec: options.text,
      encoder: encoder.name,
      promptLearner: { ...promptLearner.config },
      mappingNet: { ...mappingNet.config },
      temperature: { ...temperature.config },
    },
    dispose: () => {
      objective.dispose?.();
      promptLearner.dispose();
      mappingNet.dispose();
      temperature.dispose?.();
      encoder.dispose();
    },
  };
}
