import * as tf from '@tensorflow/tfjs-core';
import {
  assertRank,
  formatShape,
  ShapeError,
  SPECIFICATION_VERSION,
  UnknownNameError,
  type BiasTap,
  type ClassifierOutput,
  type ForwardOptions,
  type ImageClassifier,
  type NamedVariables,
} from '@lico/core';
import { applyLinear, withBiasTap, type Linear, type ParamStore } from './params';
import { validateImages } from './validate';

/** One named stage of a network: a function of the previous stage's activation. */
export interface Stage {
  readonly name: string;
  /** Output channels of this stage. */
  readonly channels: number;
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D;
}

/**
 * An {@link ImageClassifier} whose concrete architecture lives in `@lico/backbones`. It always has
 * the optional `forwardWithBiasTaps` (every convolution with a bias and every batch norm).
 */
export interface BackboneClassifier extends ImageClassifier {
  forwardWithBiasTaps(images: tf.Tensor4D, tap: BiasTap): ClassifierOutput;
  /** The torch-like name of every variable with its PyTorch layout, for weight import. */
  readonly torchLayouts: Readonly<Record<string, 'conv' | 'linear' | 'plain'>>;
}

/**
 * Builds an ImageClassifier from stages run in order (the last one produces the feature map),
 * global average pooling and a linear head.
 */
export function createStagedClassifier(args: {
  name: string;
  numClasses: number;
  inputShape: readonly [number | null, number | null, number];
  config: Record<string, unknown>;
  store: ParamStore;
  stages: readonly Stage[];
  head: Linear;
}): BackboneClassifier {
  const { stages, head, store, inputShape } = args;
  const layerNames = stages.map((s) => s.name);
  const indexOf = (layer: string): number => {
    const i = layerNames.indexOf(layer);
    if (i < 0) throw new UnknownNameError('layer', layer, layerNames);
    return i;
  };
  const runHead = (featureMap: tf.Tensor4D): ClassifierOutput => {
    const embedding = tf.mean(featureMap, [1, 2]) as tf.Tensor2D;
    return { featureMap, embedding, logits: applyLinear(embedding, head) };
  };
  const run = (x: tf.Tensor4D, from: number, to: number, training: boolean): tf.Tensor4D => {
    // An empty range (forwardFrom the last layer) returns a copy, so disposing the output never
    // disposes the caller's activation.
    let out = from > to ? tf.clone(x) : x;
    for (let i = from; i <= to; i++) out = stages[i]!.apply(out, training);
    return out;
  };
  const last = stages.length - 1;
  let disposed = false;
  const alive = (): void => {
    if (disposed) throw new Error(`${args.name}: the model has been disposed.`);
  };
  const torchLayouts: Record<string, 'conv' | 'linear' | 'plain'> = {};
  for (const [name, e] of store.entries) torchLayouts[name] = e.layout;
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: args.name,
    numClasses: args.numClasses,
    inputShape,
    config: Object.freeze({ ...args.config }),
    layerNames,
    torchLayouts,
    forward(images: tf.Tensor4D, options: ForwardOptions): ClassifierOutput {
      alive();
      validateImages(images, inputShape);
      return tf.tidy(() => runHead(run(images, 0, last, options.training)) as unknown as tf.TensorContainer) as unknown as ClassifierOutput;
    },
    forwardTo(images: tf.Tensor4D, layer: string, options: ForwardOptions): tf.Tensor4D {
      alive();
      const i = indexOf(layer);
      validateImages(images, inputShape);
      return tf.tidy(() => run(images, 0, i, options.training));
    },
    forwardFrom(activation: tf.Tensor4D, layer: string, options: ForwardOptions): ClassifierOutput {
      alive();
      const i = indexOf(layer);
      assertRank(activation, 4, `activation of layer '${layer}'`);
      if (activation.shape[3] !== stages[i]!.channels) {
        throw new ShapeError(`activation of layer '${layer}' must have ${stages[i]!.channels} channels, got shape ${formatShape(activation.shape)}.`);
      }
      return tf.tidy(() => runHead(run(activation, i + 1, last, options.training)) as unknown as tf.TensorContainer) as unknown as ClassifierOutput;
    },
    forwardWithBiasTaps(images: tf.Tensor4D, tap: BiasTap): ClassifierOutput {
      alive();
      validateImages(images, inputShape);
      return tf.tidy(() => withBiasTap(store, tap, () => runHead(run(images, 0, last, false))) as unknown as tf.TensorContainer) as unknown as ClassifierOutput;
    },
    trainableVariables: () => store.trainable(),
    nonTrainableVariables: () => store.nonTrainable(),
    namedVariables: (): NamedVariables => store.named(),
    countParams: () => store.countParams(),
    dispose(): void {
      if (disposed) return;
      disposed = true;
      store.dispose();
    },
  };
}
