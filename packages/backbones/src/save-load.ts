import * as tf from '@tensorflow/tfjs-core';
import { assignNamed, ConfigError, fetchWeights, FileFormatError, readWeights, saveVariables, UnknownNameError, type FetchWeightsOptions, type ImageClassifier } from '@lico/core';
import { createPreActResNet } from './preact-resnet';
import { createResNet, type ResNetDepth, type ResNetStem } from './resnet';
import type { BackboneClassifier } from './staged-classifier';
import { createWideResNet } from './wide-resnet';

/** Architectures {@link createFromConfig} and {@link loadClassifier} can rebuild. */
export const ARCHITECTURES = ['wide-resnet', 'resnet', 'preact-resnet'] as const;

type Size = readonly [number | null, number | null] | undefined;

/**
 * Recreates a classifier from its `config` (as stored by {@link saveClassifier}); the weights are
 * freshly initialised (`initialize: false` leaves them at zero).
 */
export function createFromConfig(config: Readonly<Record<string, unknown>>, options: { initialize?: boolean } = {}): BackboneClassifier {
  const c = config as Record<string, unknown>;
  const num = (key: string): number => {
    const v = c[key];
    if (typeof v !== 'number') throw new ConfigError(`classifier config: '${key}' must be a number, got ${JSON.stringify(v)}.`);
    return v;
  };
  const inputSize = (c.inputSize ?? undefined) as Size;
  if (inputSize !== undefined && !(Array.isArray(inputSize) && inputSize.length === 2 && inputSize.every((d) => d === null || (Number.isInteger(d) && d > 0)))) {
    throw new ConfigError(`classifier config: 'inputSize' must be [H,W] (integers or null), got ${JSON.stringify(inputSize)}.`);
  }
  const common = { numClasses: num('numClasses'), inputChannels: num('inputChannels'), seed: num('seed'), inputSize, initialize: options.initialize ?? true };
  switch (c.architecture) {
    case 'wide-resnet':
      return createWideResNet({ ...common, depth: num('depth'), widen: num('widen'), dropout: num('dropout') });
    case 'resnet':
      return createResNet({ ...common, depth: num('depth') as ResNetDepth, stem: String(c.stem) as ResNetStem });
    case 'preact-resnet':
      return createPreActResNet({ ...common, depth: num('depth') as 18 });
    default:
      throw new UnknownNameError('architecture', String(c.architecture), ARCHITECTURES);
  }
}

/**
 * Saves a classifier's variables (trainable and moving statistics) in the TensorFlow.js format
 * (`dir/model.json` + `dir/weights.bin`, replaced atomically) with its `config` in
 * `userDefinedMetadata.classifier`, so {@link loadClassifier} can rebuild it without knowing the
 * architecture. `extra` is stored beside it (e.g. the training step).
 */
export async function saveClassifier(model: ImageClassifier, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await saveVariables(dir, model.namedVariables(), { ...extra, classifier: model.config, classifierName: model.name });
}

/**
 * Loads a classifier saved by {@link saveClassifier}: rebuilds the architecture from the stored
 * config, then assigns every weight (names and shapes must match exactly; a missing or extra
 * weight is an error naming it). Only the tfjs format is read.
 */
export async function loadClassifier(dir: string): Promise<BackboneClassifier> {
  return classifierFromWeights(await readWeights(dir), `${dir.replace(/[\\/]+$/, '')}/model.json`);
}

/**
 * As {@link loadClassifier}, from a directory served over HTTP (`url/model.json` + its weight
 * files): the way to load a classifier trained by `lico train` in a browser.
 */
export async function fetchClassifier(url: string, options: FetchWeightsOptions = {}): Promise<BackboneClassifier> {
  return classifierFromWeights(await fetchWeights(url, options), `${url.replace(/\/+$/, '')}/model.json`);
}

function classifierFromWeights({ tensors, metadata }: { tensors: tf.NamedTensorMap; metadata: Record<string, unknown> }, source: string): BackboneClassifier {
  try {
    // saveClassifier stores `classifier`; the trainer's exportClassifier (lico train's model/) `config`.
    const config = metadata.classifier ?? metadata.config;
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new FileFormatError(source, 'userDefinedMetadata.classifier (or .config, the architecture config) is missing: not saved by saveClassifier or a trainer export?');
    }
    const model = createFromConfig(config as Record<string, unknown>, { initialize: false });
    try {
      assignNamed(model.namedVariables(), tensors, source);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
