import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor1D, Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import { assertRank, formatShape } from '../assert';
import { ShapeError } from '../errors';
import type { AlignmentInputs, AlignmentLoss, ClassifierOutput, MappingNet, NamedVariables, PromptLearner } from '../spec';
import { softmaxCrossEntropy } from './cross-entropy';
import { selectRows } from './select-rows';

/**
 * A learnable temperature as `@lico/text`'s `createTemperature` makes it: `value` is read on every
 * call (it may be a variable or a scalar computed from one).
 */
export interface TemperatureLike {
  readonly value: Variable | Scalar;
  trainableVariables(): Variable[];
  namedVariables(): NamedVariables;
  readonly config?: Readonly<Record<string, unknown>>;
  dispose?(): void;
}

/** `log(1/0.07)`, CLIP's initial temperature, the default `τ` of manifold matching. */
export const DEFAULT_TEMPERATURE = Math.log(1 / 0.07);

/** Options of {@link createLicoObjective}. */
export interface LicoObjectiveOptions {
  /** `'lico'` (default): CE + α·MM + β·OT. `'baseline'`: CE only, no text side at all. */
  readonly mode?: 'lico' | 'baseline';
  /** Learnable prompts around the frozen text encoder (required in `'lico'` mode). */
  readonly promptLearner?: PromptLearner;
  /** `h_ψ`: text features to prompt points (required when `ot` is given). */
  readonly mappingNet?: MappingNet;
  /** Manifold-matching loss (from `@lico/losses`); omit or `null` to leave the term out (it is then 0). */
  readonly mm?: AlignmentLoss | null;
  /** Optimal-transport loss (from `@lico/losses`); omit or `null` to leave the term out (it is then 0). */
  readonly ot?: AlignmentLoss | null;
  /** Weight of the MM term (default 10). */
  readonly alpha?: number;
  /** Weight of the OT term (default 1). */
  readonly beta?: number;
  /**
   * The temperature `τ` handed to the alignment losses: a `TemperatureLike` (e.g. `createTemperature`
   * of `@lico/text`), a variable (trained if `trainable`), or a number (a constant). Default: a
   * trainable variable owned by the objective, initialised to `log(1/0.07)`.
   */
  readonly temperature?: TemperatureLike | Variable | number;
}

/** Options of one loss computation. */
export interface ComputeLossOptions {
  /** Training mode (prompt-learner/mapping-net dropout on); default true. */
  readonly training?: boolean;
  /**
   * Seed of this step's random choices (the mapping net's dropout mask). The trainer derives it
   * from (run seed, step) so a resumed run draws the same masks. Passed on to the text side as an
   * extra `seed` member of the forward options.
   */
  readonly seed?: number;
  /**
   * Receives this batch's terms as kept copies (they survive `optimizer.minimize`'s tidy): read
   * them with `await t.data()` after the step, then dispose them. For logging each term without a
   * synchronous read inside the closure.
   */
  readonly onTerms?: (terms: LossTerms) => void;
}

/** The loss terms of one batch (scalars; `mm`/`ot` are 0 when left out or in baseline mode). */
export interface LossTerms {
  readonly ce: Scalar;
  readonly mm: Scalar;
  readonly ot: Scalar;
  /** `ce + α·mm + β·ot`. */
  readonly total: Scalar;
}

/** The LICO objective (or the baseline objective: same code path, text side absent). */
export interface LicoObjective {
  readonly mode: 'lico' | 'baseline';
  /** Every choice made, JSON-serialisable (recorded in results.json). */
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * The loss terms of one batch from a classifier's forward output and the labels: class indices
   * `[N]` (int32) or one-hot rows `[N,K]` (the usual tfjs form; their argmax is used). Options
   * default to `{ training: true }`. Differentiable; use inside `tf.variableGrads` /
   * `optimizer.minimize` (take `.total`).
   */
  computeLoss(output: ClassifierOutput, labels: Tensor1D | Tensor2D, options?: ComputeLossOptions): LossTerms;
  /** The objective's own trainable variables: context vectors, mapping net, temperature. */
  trainableVariables(): Variable[];
  /** Every variable of the text side by a stable name (`promptLearner/…`, `mappingNet/…`, `temperature/…`), for checkpoints. */
  namedVariables(): NamedVariables;
  /** Frees what the objective created itself (the default temperature); plugins stay with their owner. */
  dispose(): void;
}

/**
 * tfjs errors that do not say what to do, in lico's words: "Kernel 'X' not registered for backend
 * 'Y'" (lico's losses need kernels that stock tfjs-backend-wasm lacks, which `@lico/backends`
 * registers) and GatherV2's "index value is not in [0, K-1]" (a label outside the classes).
 */
export function explainMissingKernel(error: unknown): unknown {
  const g = error instanceof Error ? /GatherV2: the index value (-?\d+) is not in \[0, (\d+)\]/.exec(error.message) : null;
  if (g) return new ConfigError(`labels hold class ${g[1]}, outside [0, ${Number(g[2]) + 1}): the labels must be class indices of the model's classes.`);
  const m = error instanceof Error ? /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(error.message) : null;
  if (!m) return error;
  return new ConfigError(
    `The '${m[2]}' backend has no '${m[1]}' kernel, which the LICO objective needs. ` +
      `Import { useBackend } from '@lico/backends' and call await useBackend('${m[2] === 'wasm' ? 'wasm' : 'auto'}') instead of tf.setBackend(): it registers lico's kernels. (${error instanceof Error ? error.message : String(error)})`,
  );
}

/**
 * Training kernels that stock `@tensorflow/tfjs-backend-wasm` 4.22 lacks (a conv net's backward
 * pass fails there with "Kernel 'Conv2DBackpropFilter' not registered"); `@lico/backends` registers them.
 */
const STOCK_WASM_MISSING_KERNELS = ['Conv2DBackpropFilter', 'UnsortedSegmentSum'] as const;

/**
 * The one-time advice for a backend that trains badly: tfjs's pure-JavaScript `cpu` (LICO mode: ~50×
 * slower than wasm), or stock `wasm` without lico's kernels (a conv net cannot train there). `undefined` otherwise.
 */
export function backendAdvice(backend: string, mode: 'lico' | 'baseline'): string | undefined {
  if (backend === 'cpu' && mode === 'lico') {
    return (
      "lico: the LICO objective runs on tfjs's pure-JavaScript 'cpu' backend, where one step is ~50x slower than on wasm (measured: 11.5 s vs 0.23 s for the prompt encoder). " +
      "Use @tensorflow/tfjs-node(-gpu), or import { useBackend } from '@lico/backends' and await useBackend('wasm')."
    );
  }
  if (backend === 'wasm') {
    const missing = STOCK_WASM_MISSING_KERNELS.filter((name) => !tf.getKernel(name, 'wasm'));
    if (missing.length > 0) {
      return (
        `lico: this is stock tfjs-backend-wasm, without the training kernels ${missing.map((m) => `'${m}'`).join(', ')} (a conv net's backward pass fails there, and its MaxPoolGrad is wrong for batches > 1). ` +
        "Import { useBackend } from '@lico/backends' and await useBackend('wasm') instead of tf.setBackend('wasm'): it registers lico's kernels."
      );
    }
  }
  return undefined;
}

function isVariable(x: unknown): x is Variable {
  return x instanceof tf.Variable;
}

function checkWeight(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${what} must be a finite number >= 0, got ${value}.`);
  return value;
}

function prefixed(prefix: string, vars: NamedVariables): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  for (const [k, v] of Object.entries(vars)) out[`${prefix}/${k}`] = v;
  return out;
}

/**
 * Creates the LICO objective `L = CE + α·L_MM + β·L_OT` (Lei et al. 2023). It composes the plugins
 * handed to it (a prompt learner, a mapping net, two alignment losses, a temperature) through the
 * v1 interfaces and imports none of them. With `mode: 'baseline'` it is plain cross-entropy on the
 * same code path, for fair comparisons.
 */
export function createLicoObjective(options: LicoObjectiveOptions = {}): LicoObjective {
  const mode = options.mode ?? 'lico';
  if (mode !== 'lico' && mode !== 'baseline') throw new ConfigError(`objective mode must be 'lico' or 'baseline', got '${String(mode)}'.`);
  if (mode === 'baseline') return createObjectiveImpl('baseline', null, null, null, null, 0, 0, null, false);

  const { promptLearner, mappingNet } = options;
  const mm = options.mm ?? null;
  const ot = options.ot ?? null;
  if (!promptLearner) throw new ConfigError("The LICO objective needs a promptLearner (or use mode: 'baseline').");
  if (!mm && !ot) throw new ConfigError("The LICO objective needs at least one alignment loss (mm or ot); for CE alone use mode: 'baseline'.");
  if (ot && !mappingNet) throw new ConfigError('The optimal-transport loss needs a mappingNet (text features → H*W prompt points).');
  if (mappingNet && mappingNet.inputDim !== promptLearner.outputDim) {
    throw new ConfigError(`The mapping net takes features of width ${mappingNet.inputDim}, but the prompt learner produces width ${promptLearner.outputDim}.`);
  }
  const alpha = checkWeight(options.alpha ?? 10, 'alpha');
  const beta = checkWeight(options.beta ?? 1, 'beta');

  let temperature: TemperatureLike;
  let ownsTemperature = false;
  const t = options.temperature;
  if (t === undefined || typeof t === 'number') {
    const init = t ?? DEFAULT_TEMPERATURE;
    if (!Number.isFinite(init) || init <= 0) throw new ConfigError(`temperature must be a finite number > 0, got ${init}.`);
    const trainable = t === undefined;
    const v = tf.tidy(() => tf.variable(tf.scalar(init), trainable, `lico-temperature-${Math.random().toString(36).slice(2)}`));
    ownsTemperature = true;
    temperature = {
      value: v,
      trainableVariables: () => (trainable ? [v] : []),
      namedVariables: () => ({ tau: v }),
      config: { init, trainable, owner: '@lico/core' },
      dispose: () => v.dispose(),
    };
  } else if (isVariable(t)) {
    temperature = {
      value: t,
      trainableVariables: () => (t.trainable ? [t] : []),
      namedVariables: () => ({ tau: t }),
      config: { trainable: t.trainable, owner: 'caller' },
    };
  } else {
    temperature = t;
  }
  return createObjectiveImpl('lico', promptLearner, mappingNet ?? null, mm, ot, alpha, beta, temperature, ownsTemperature);
}

/** The baseline objective: cross-entropy only, on the same code path as LICO (no text side). */
export function createBaselineObjective(): LicoObjective {
  return createLicoObjective({ mode: 'baseline' });
}

function createObjectiveImpl(
  mode: 'lico' | 'baseline',
  promptLearner: PromptLearner | null,
  mappingNet: MappingNet | null,
  mm: AlignmentLoss | null,
  ot: AlignmentLoss | null,
  alpha: number,
  beta: number,
  temperature: TemperatureLike | null,
  ownsTemperature: boolean,
): LicoObjective {
  const config: Record<string, unknown> =
    mode === 'baseline'
      ? { mode, classification: 'softmax-cross-entropy', textSide: null, alpha: 0, beta: 0, mm: null, ot: null }
      : {
          mode,
          classification: 'softmax-cross-entropy',
          total: 'ce + alpha*mm + beta*ot',
          alpha: mm ? alpha : 0,
          beta: ot ? beta : 0,
          imagePoints: 'featureMap [N,H,W,C] -> [N,C,H*W]',
          textPoints: 'mappingNet(promptFeatures [M,K,D]) -> [M,K,H*W], gathered by label -> [N,M,H*W]',
          mmInputs: 'embedding [N,C] vs classFeatures gathered by label [N,D], with temperature',
          promptLearner: { numVariants: promptLearner!.numVariants, outputDim: promptLearner!.outputDim, numClasses: promptLearner!.classNames.length, ...promptLearner!.config },
          mappingNet: mappingNet ? { inputDim: mappingNet.inputDim, outputDim: mappingNet.outputDim, ...mappingNet.config } : null,
          mm: mm ? { name: mm.name, ...mm.config } : null,
          ot: ot ? { name: ot.name, ...ot.config } : null,
          temperature: temperature?.config ?? { owner: 'caller' },
        };

  const trainableVariables = (): Variable[] => {
    if (mode === 'baseline') return [];
    const list = [...promptLearner!.trainableVariables(), ...(mappingNet?.trainableVariables() ?? []), ...(temperature?.trainableVariables() ?? [])];
    return [...new Set(list)];
  };

  const namedVariables = (): NamedVariables => {
    if (mode === 'baseline') return {};
    return {
      ...prefixed('promptLearner', promptLearner!.namedVariables()),
      ...(mappingNet ? prefixed('mappingNet', mappingNet.namedVariables()) : {}),
      ...(temperature ? prefixed('temperature', temperature.namedVariables()) : {}),
    };
  };

  let warnedBackend = false;
  const computeLoss = (output: ClassifierOutput, labelsIn: Tensor1D | Tensor2D, opts: ComputeLossOptions = { training: true }): LossTerms => {
    if (!warnedBackend) {
      const advice = backendAdvice(tf.getBackend(), mode);
      if (advice) console.warn(advice);
      warnedBackend = true;
    }
    let terms: LossTerms;
    try {
      terms = computeLossOn(output, labelsIn, opts);
    } catch (error) {
      throw explainMissingKernel(error);
    }
    if (opts.onTerms) {
      const copy = (t: Scalar) => tf.keep(tf.clone(t)) as Scalar;
      opts.onTerms({ ce: copy(terms.ce), mm: copy(terms.mm), ot: copy(terms.ot), total: copy(terms.total) });
    }
    return terms;
  };

  const computeLossOn = (output: ClassifierOutput, labelsIn: Tensor1D | Tensor2D, opts: ComputeLossOptions): LossTerms => {
    const { logits, embedding, featureMap } = output;
    assertRank(logits, 2, 'logits');
    const [n, k] = logits.shape;
    if (labelsIn?.rank === 2 && labelsIn.shape[1] !== k) {
      throw new ShapeError(`labels ${formatShape(labelsIn.shape)}: one-hot labels must have one column per class of the logits ${formatShape(logits.shape)}; or give class indices [N] (int32).`);
    }
    const labels: Tensor1D = labelsIn?.rank === 2 ? (tf.argMax(labelsIn, 1) as Tensor1D) : (labelsIn as Tensor1D);
    assertRank(labels, 1, 'labels');
    if (labels.shape[0] !== n) throw new ShapeError(`labels ${formatShape(labels.shape)} must have one entry per row of logits ${formatShape(logits.shape)}.`);
    const ce = softmaxCrossEntropy(logits, labels);
    if (mode === 'baseline') {
      return { ce, mm: tf.scalar(0), ot: tf.scalar(0), total: ce };
    }
    assertRank(featureMap, 4, 'featureMap');
    assertRank(embedding, 2, 'embedding');
    const [, h, w, c] = featureMap.shape;
    const hw = h * w;
    if (mappingNet && mappingNet.outputDim !== hw) {
      throw new ConfigError(`The mapping net's output size (${mappingNet.outputDim}) must equal the number of spatial positions of the feature map H*W = ${h}*${w} = ${hw}.`);
    }
    if (promptLearner!.classNames.length !== k) {
      throw new ConfigError(`The prompt learner has ${promptLearner!.classNames.length} classes, the classifier's logits have ${k}.`);
    }
    const training = opts.training ?? true;
    const forward = opts.seed === undefined ? { training } : { training, seed: opts.seed };
    const intLabels = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
    const text = promptLearner!.encode(forward);
    let imagePoints: Tensor3D | undefined;
    let textPoints: Tensor3D | undefined;
    let textEmbeddings: Tensor2D | undefined;
    const tau = temperature!.value as Scalar;
    // Lazy: a loss pays only for the inputs it reads (MM never builds the OT points).
    const inputs: AlignmentInputs = {
      imageEmbeddings: embedding,
      get textEmbeddings() {
        textEmbeddings ??= selectRows(text.classFeatures, intLabels);
        return textEmbeddings;
      },
      get imagePoints() {
        imagePoints ??= tf.transpose(tf.reshape(featureMap, [n, hw, c]), [0, 2, 1]) as Tensor3D;
        return imagePoints;
      },
      get textPoints() {
        if (!textPoints) {
          if (!mappingNet) throw new ConfigError('An alignment loss reads textPoints, but the objective has no mappingNet.');
          const points = mappingNet.apply(text.promptFeatures, forward); // [M,K,HW]
          textPoints = selectRows(tf.transpose(points, [1, 0, 2]) as Tensor3D, intLabels); // [K,M,HW] -> [N,M,HW]
        }
        return textPoints;
      },
      labels: intLabels,
      temperature: tau,
    };
    const mmValue = mm ? mm.compute(inputs) : tf.scalar(0);
    const otValue = ot ? ot.compute(inputs) : tf.scalar(0);
    let total: Scalar = ce;
    if (mm) total = tf.add(total, tf.mul(mmValue, alpha));
    if (ot) total = tf.add(total, tf.mul(otValue, beta));
    return { ce, mm: mmValue, ot: otValue, total };
  };

  return {
    mode,
    config,
    computeLoss,
    trainableVariables,
    namedVariables,
    dispose: () => {
      if (ownsTemperature) temperature?.dispose?.();
    },
  };
}
