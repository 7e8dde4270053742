import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  assertRank,
  ConfigError,
  formatShape,
  ShapeError,
  SPECIFICATION_VERSION,
  UnknownNameError,
  type ClassifierOutput,
  type ForwardOptions,
  type ImageClassifier,
  type NamedVariables,
} from '@lico/core';
import { validateImages } from './validate';

/** Options of {@link wrapLayersModel}. */
export interface WrapLayersModelOptions {
  /** Name of the layer whose (rank-4, NHWC) output is the feature map. */
  readonly featureLayer: string;
  /** Number of classes (default: the last dimension of the model's output). */
  readonly numClasses?: number;
  /** A short description (default `'layers-model:<model name>'`). */
  readonly name?: string;
}

type SymbolicTensor = tfl.SymbolicTensor;

/**
 * Wraps an existing `tf.LayersModel` (one NHWC image input, one output of class scores) as an
 * {@link ImageClassifier} ("bring your own model"). The output of `featureLayer` is the
 * `featureMap`, `embedding` is its global average, `logits` the model's output.
 *
 * Softmax outputs: if the model ends in a `Softmax` layer or an `Activation('softmax')` layer, the
 * logits are that layer's input (exact pre-softmax scores). If it ends in a `Dense` layer with a
 * softmax activation, the logits are the log-probabilities `log(softmax)`, which equal the
 * pre-softmax scores up to a per-sample constant (same softmax, cross-entropy and argmax; the
 * gradient of one class score differs). Build the model without the final softmax to avoid this.
 *
 * `layerNames` are the layers with rank-4 outputs on the path to the feature layer (input side
 * first, ending with `featureLayer`). `forwardFrom` requires that the output depends on the model
 * input only through the named layer (no skip connection around it). Training mode is passed to
 * every layer (`training: true`: batch norm uses and updates batch statistics, dropout is on).
 * `dispose()` disposes the wrapped model. `@tensorflow/tfjs-layers` is only needed by the caller
 * (this package imports its types only). The `config` records the wrapping; it cannot recreate the
 * model (save the LayersModel itself with `model.save`).
 */
export function wrapLayersModel(model: tfl.LayersModel, options: WrapLayersModelOptions): ImageClassifier {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ConfigError(`wrapLayersModel: the model must have one input and one output, got ${model.inputs.length} and ${model.outputs.length}.`);
  }
  const input = model.inputs[0]!;
  if (input.shape.length !== 4) throw new ShapeError(`wrapLayersModel: the model input must be NHWC (rank 4), got shape ${formatShape(input.shape)}.`);
  const allNames = model.layers.map((l) => l.name);
  const layerOf = (name: string): tfl.layers.Layer => {
    if (!allNames.includes(name)) throw new UnknownNameError('layer', name, allNames);
    return model.getLayer(name);
  };
  const outputOf = (layer: tfl.layers.Layer): SymbolicTensor => {
    const out = layer.output;
    if (Array.isArray(out)) throw new ConfigError(`wrapLayersModel: layer '${layer.name}' has several outputs.`);
    return out as SymbolicTensor;
  };
  const featureSym = outputOf(layerOf(options.featureLayer));
  if (featureSym.shape.length !== 4) {
    throw new ShapeError(`wrapLayersModel: feature layer '${options.featureLayer}' must output NHWC (rank 4), got shape ${formatShape(featureSym.shape)}.`);
  }

  // Logits: undo a final softmax.
  let logitsSym = model.outputs[0]!;
  let logOfOutput = false;
  const last = logitsSym.sourceLayer as tfl.layers.Layer;
  const lastConfig = last.getConfig() as { activation?: unknown };
  const lastClass = last.getClassName();
  if (lastClass === 'Softmax' || (lastClass === 'Activation' && lastConfig.activation === 'softmax')) {
    logitsSym = logitsSym.inputs[0]!;
  } else if (lastConfig.activation === 'softmax') {
    logOfOutput = true;
  }
  if (logitsSym.shape.length !== 2) throw new ShapeError(`wrapLayersModel: the model output must be [N,K], got shape ${formatShape(logitsSym.shape)}.`);
  const numClasses = options.numClasses ?? (logitsSym.shape[1] as number);
  if (numClasses !== logitsSym.shape[1]) throw new ConfigError(`wrapLayersModel: numClasses ${numClasses} disagrees with the model output ${formatShape(logitsSym.shape)}.`);

  // Layers with rank-4 outputs that the feature map depends on, in model order.
  const ancestors = new Set<string>();
  const visit = (t: SymbolicTensor): void => {
    const layer = t.sourceLayer as tfl.layers.Layer;
    if (ancestors.has(layer.name)) return;
    ancestors.add(layer.name);
    for (const i of t.inputs ?? []) visit(i);
  };
  visit(featureSym);
  const layerNames = model.layers
    .filter((l) => ancestors.has(l.name) && l.getClassName() !== 'InputLayer' && !Array.isArray(l.output) && (l.output as SymbolicTensor).shape.length === 4)
    .map((l) => l.name);

  /** Evaluates `targets` given values for some symbolic tensors (by id), calling each layer once. */
  const evaluate = (feeds: Map<number, tf.Tensor>, targets: SymbolicTensor[], training: boolean, what: string): tf.Tensor[] => {
    const memo = new Map<number, tf.Tensor>(feeds);
    const calls = new Map<string, tf.Tensor | tf.Tensor[]>();
    const get = (t: SymbolicTensor): tf.Tensor => {
      const known = memo.get(t.id);
      if (known) return known;
      const layer = t.sourceLayer as tfl.layers.Layer;
      if (layer.getClassName() === 'InputLayer' || !t.inputs || t.inputs.length === 0) {
        throw new ConfigError(`wrapLayersModel: ${what} needs '${t.name}', which is not computed from the given tensor (a connection bypasses it).`);
      }
      const key = `${layer.name}#${t.nodeIndex}`;
      let out = calls.get(key);
      if (!out) {
        const args = t.inputs.map(get);
        out = layer.apply(args.length === 1 ? args[0]! : args, { ...t.callArgs, training }) as tf.Tensor | tf.Tensor[];
        calls.set(key, out);
      }
      const value = Array.isArray(out) ? out[t.tensorIndex ?? 0]! : out;
      memo.set(t.id, value);
      return value;
    };
    return targets.map(get);
  };
  const head = (featureMap: tf.Tensor, logits: tf.Tensor): ClassifierOutput => ({
    featureMap: featureMap as tf.Tensor4D,
    embedding: tf.mean(featureMap, [1, 2]) as tf.Tensor2D,
    logits: (logOfOutput ? tf.log(logits) : logits) as tf.Tensor2D,
  });
  const inputShape: readonly [number | null, number | null, number] = [input.shape[1] ?? null, input.shape[2] ?? null, input.shape[3] as number];
  const checkLayer = (layer: string): SymbolicTensor => {
    if (!layerNames.includes(layer)) throw new UnknownNameError('layer', layer, layerNames);
    return outputOf(model.getLayer(layer));
  };
  const vars = (ws: tfl.LayerVariable[]): tf.Variable[] => ws.map((w) => w.read() as tf.Variable);
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: options.name ?? `layers-model:${model.name}`,
    numClasses,
    inputShape,
    config: Object.freeze({ architecture: 'layers-model', modelName: model.name, featureLayer: options.featureLayer, numClasses }),
    layerNames,
    forward(images: tf.Tensor4D, opts: ForwardOptions): ClassifierOutput {
      validateImages(images, inputShape);
      return tf.tidy(() => {
        const [f, l] = evaluate(new Map([[input.id, images]]), [featureSym, logitsSym], opts.training, 'forward');
        return head(f!, l!) as unknown as tf.TensorContainer;
      }) as unknown as ClassifierOutput;
    },
    forwardTo(images: tf.Tensor4D, layer: string, opts: ForwardOptions): tf.Tensor4D {
      const sym = checkLayer(layer);
      validateImages(images, inputShape);
      return tf.tidy(() => evaluate(new Map([[input.id, images]]), [sym], opts.training, 'forwardTo')[0]!) as tf.Tensor4D;
    },
    forwardFrom(activation: tf.Tensor4D, layer: string, opts: ForwardOptions): ClassifierOutput {
      const sym = checkLayer(layer);
      assertRank(activation, 4, `activation of layer '${layer}'`);
      if (sym.shape[3] !== activation.shape[3]) {
        throw new ShapeError(`activation of layer '${layer}' must have ${sym.shape[3]} channels, got shape ${formatShape(activation.shape)}.`);
      }
      return tf.tidy(() => {
        const [f, l] = evaluate(new Map([[sym.id, activation]]), [featureSym, logitsSym], opts.training, `forwardFrom('${layer}')`);
        return head(layer === options.featureLayer ? tf.clone(f!) : f!, l!) as unknown as tf.TensorContainer;
      }) as unknown as ClassifierOutput;
    },
    trainableVariables: () => vars(model.trainableWeights),
    nonTrainableVariables: () => vars(model.nonTrainableWeights),
    namedVariables(): NamedVariables {
      const out: Record<string, tf.Variable> = {};
      for (const w of model.weights) out[w.name] = w.read() as tf.Variable;
      return out;
    },
    countParams: () => model.trainableWeights.reduce((a, w) => a + w.read().size, 0),
    dispose: () => {
      model.dispose();
    },
  };
}
