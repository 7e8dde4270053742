import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { ConfigError, NonFiniteError } from '../errors';
import { nonFiniteNames } from '../assert';
import { createRng, type RngState } from '../rng';
import type { Batch, Dataset, ImageClassifier, NamedVariables } from '../spec';
import type { LicoObjective } from '../objective/lico-objective';
import { countCorrect, softmaxCrossEntropy } from '../objective/cross-entropy';
import { createSgd, type Sgd, type SgdOptions, type SgdState } from '../optim/sgd';
import { licoCosineSchedule, type Schedule } from '../optim/schedules';
import { createEma, type Ema, type EmaOptions } from '../optim/ema';
import { clipFactor, globalNorm } from '../optim/clip';
import { saveVariables } from '../io/tfjs-weights';
import { createProgressBar, type ProgressStream } from '../progress';
import { CHECKPOINT_FORMAT, readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint';

/** Options of {@link createTrainer}. */
export interface TrainerOptions {
  /** The classifier being trained (it is all that inference uses). */
  readonly model: ImageClassifier;
  /** The LICO (or baseline) objective; its text-side variables train with the model. */
  readonly objective: LicoObjective;
  /** An {@link Sgd} or its options (default: momentum 0.9, weight decay 1e-4, L2 as PyTorch). */
  readonly optimizer?: Sgd | SgdOptions;
  /** Learning-rate schedule (default `licoCosineSchedule({ learningRate: 0.03 })`). */
  readonly schedule?: Schedule;
  /** EMA of the model's weights and BN statistics used for evaluation (default decay 0.999); `false` for none. */
  readonly ema?: EmaOptions | false;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  readonly clipGradNorm?: number;
  /** Seed of the run: batch order and augmentation (via the dataset) and per-step seeds (dropout). Default 0. */
  readonly seed?: number;
}

/** Metrics of one training step (`step` is 0-based: the k of the schedule). */
export interface StepMetrics {
  readonly step: number;
  readonly epoch: number;
  readonly batch: number;
  readonly learningRate: number;
  readonly ce: number;
  readonly mm: number;
  readonly ot: number;
  readonly total: number;
  /** Training accuracy on this batch (before the update). */
  readonly accuracy: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  readonly batchSize: number;
}

/** Result of {@link Trainer.evaluate}. */
export interface EvaluationMetrics {
  readonly ce: number;
  readonly accuracy: number;
  readonly count: number;
}

/** Metrics of one epoch: means over its training steps (weighted by batch size) and validation. */
export interface EpochMetrics {
  readonly epoch: number;
  readonly steps: number;
  readonly train: { readonly ce: number; readonly mm: number; readonly ot: number; readonly total: number; readonly accuracy: number };
  readonly validation: EvaluationMetrics | null;
}

/** Options of {@link Trainer.fit}. */
export interface FitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Evaluated after every epoch (with the EMA weights when the trainer has an EMA). */
  readonly validation?: Dataset;
  /**
   * A custom validation run after every epoch instead of `validation` (e.g. with recomputed
   * batch-norm statistics); its result is recorded in the epoch's metrics. It must leave the
   * model's variables as it found them, or the run depends on it. Returning null skips the epoch.
   */
  readonly validate?: (epoch: number) => Promise<EvaluationMetrics | null>;
  /** Training augmentation of the dataset (default true). */
  readonly augment?: boolean;
  /** Drop a last incomplete batch (default false). */
  readonly dropLast?: boolean;
  /** Checkpoint directory (replaced atomically at every epoch end, every `everySteps` and on stop). */
  readonly checkpoint?: { readonly dir: string; readonly everySteps?: number };
  /** Called after every step. */
  readonly onStep?: (metrics: StepMetrics) => void | Promise<void>;
  /** Called after every epoch (after validation and the checkpoint). */
  readonly onEpochEnd?: (metrics: EpochMetrics) => void | Promise<void>;
  /** Show a progress bar (true: on stderr) per epoch. Default false. */
  readonly progress?: boolean | ProgressStream;
  /** Batch size of validation (default `batchSize`). */
  readonly validationBatchSize?: number;
}

/** What {@link Trainer.fit} returns. */
export interface FitResult {
  /** Per-epoch metrics of the whole run (including epochs before a resume). */
  readonly history: readonly EpochMetrics[];
  /** True if `requestStop()` ended the run early (a checkpoint was written if a directory was given). */
  readonly stopped: boolean;
  readonly step: number;
}

/** The trainer's position in the run. */
export interface TrainerPosition {
  readonly step: number;
  readonly epoch: number;
  readonly batchInEpoch: number;
}

/** A non-finite loss term or gradient; names the term and the step. No update was applied. */
export class NonFiniteLossError extends NonFiniteError {
  /** `'ce' | 'mm' | 'ot' | 'total' | 'gradient'`. */
  readonly term: string;
  /** The 0-based step. */
  readonly step: number;
  constructor(term: string, value: number, step: number, epoch: number, batch: number) {
    super(
      `Loss term '${term}' is ${value} at step ${step} (epoch ${epoch}, batch ${batch}). Training stopped before applying this update; the last checkpoint was left intact.`,
    );
    this.term = term;
    this.step = step;
  }
}

/** A thin trainer: SGD, schedule, EMA, clipping, epochs with validation, metrics, checkpoints. */
export interface Trainer {
  /** Every choice, JSON-serialisable (recorded in results.json). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Where the run is (advanced by `fit`, set by `loadCheckpoint`). */
  readonly position: TrainerPosition;
  /** Per-epoch metrics so far. */
  readonly history: readonly EpochMetrics[];
  /** Trains (or continues training) up to `epochs` epochs. */
  fit(train: Dataset, options: FitOptions): Promise<FitResult>;
  /**
   * One training step on a batch (the caller keeps ownership of the batch). Its one read of the
   * loss terms is synchronous (`dataSync`): on a GPU backend it blocks the thread until the step
   * has run; prefer {@link Trainer.trainStepAsync} there (`fit` uses it).
   */
  trainStep(batch: Batch, totalSteps: number): StepMetrics;
  /** {@link Trainer.trainStep} with the read-back awaited (`await data()`): the same step, the same metrics. */
  trainStepAsync(batch: Batch, totalSteps: number): Promise<StepMetrics>;
  /** CE and top-1 accuracy of the classifier alone (EMA weights by default when present). */
  evaluate(dataset: Dataset, options: { readonly batchSize: number; readonly useEma?: boolean }): Promise<EvaluationMetrics>;
  /** Asks `fit` to stop at the next step boundary (after writing a checkpoint if it has a directory). */
  requestStop(): void;
  /** Writes a checkpoint of the whole training state. */
  saveCheckpoint(dir: string): Promise<void>;
  /** Loads a checkpoint; the next `fit` continues from its epoch and batch. */
  loadCheckpoint(dir: string): Promise<TrainerPosition>;
  /** Saves the classifier alone (no text side; EMA weights if `useEma`, default when present). */
  exportClassifier(dir: string, options?: { readonly useEma?: boolean }): Promise<void>;
  /** Every variable a checkpoint holds, by name (`model/…`, `text/…`, `optimizer/…`, `ema/…`). */
  checkpointVariables(): NamedVariables;
  /** The EMA, if any. */
  readonly ema: Ema | null;
  /** Frees the optimiser buffers and EMA shadows (model and objective stay with their owner). */
  dispose(): void;
}

interface EpochSums {
  ce: number;
  mm: number;
  ot: number;
  total: number;
  correct: number;
  count: number;
  steps: number;
}

const zeroSums = (): EpochSums => ({ ce: 0, mm: 0, ot: 0, total: 0, correct: 0, count: 0, steps: 0 });

function isSgd(x: unknown): x is Sgd {
  return typeof x === 'object' && x !== null && typeof (x as Sgd).step === 'function' && typeof (x as Sgd).namedVariables === 'function';
}

/**
 * Creates a trainer. Each step: forward, `objective.computeLoss`, gradients of every trainable
 * variable (model + text side), one sync read of the loss terms (metrics and the non-finite
 * check, before any update), optional clipping, SGD, EMA.
 */
export function createTrainer(options: TrainerOptions): Trainer {
  const { model, objective } = options;
  const sgd = isSgd(options.optimizer) ? options.optimizer : createSgd(options.optimizer ?? {});
  const schedule = options.schedule ?? licoCosineSchedule();
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}.`);
  const clip = options.clipGradNorm;
  if (clip !== undefined && !(Number.isFinite(clip) && clip > 0)) throw new ConfigError(`clipGradNorm must be a finite number > 0, got ${clip}.`);
  const rng = createRng(seed);

  // Trainable parameters in a fixed order, by stable name.
  const modelTrainable = new Set(model.trainableVariables());
  const textTrainable = new Set(objective.trainableVariables());
  const params: { name: string; variable: Variable }[] = [];
  for (const [n, v] of Object.entries(model.namedVariables())) if (modelTrainable.has(v)) params.push({ name: `model/${n}`, variable: v });
  for (const [n, v] of Object.entries(objective.namedVariables())) if (textTrainable.has(v)) params.push({ name: `text/${n}`, variable: v });
  if (params.length !== modelTrainable.size + textTrainable.size) {
    throw new ConfigError(`Every trainable variable must appear in namedVariables(): found ${params.length} named of ${modelTrainable.size + textTrainable.size} trainable.`);
  }
  sgd.init(params);
  const ema = options.ema === false ? null : createEma(model.namedVariables(), options.ema ?? {});

  let step = 0;
  let epoch = 0;
  let batchInEpoch = 0;
  let sums = zeroSums();
  let totalStepsOfRun: number | null = null;
  const history: EpochMetrics[] = [];
  let stopRequested = false;

  const config: Record<string, unknown> = {
    seed,
    optimizer: sgd.config,
    schedule: schedule.config,
    ema: ema ? ema.config : null,
    clipGradNorm: clip ?? null,
    objective: objective.config,
    model: { name: model.name, params: model.countParams(), ...model.config },
    nonFiniteCheck: 'every step, on ce/mm/ot/total and the gradient norm, before the update',
  };

  const checkpointVariables = (): NamedVariables => {
    const out: Record<string, Variable> = {};
    for (const [n, v] of Object.entries(model.namedVariables())) out[`model/${n}`] = v;
    for (const [n, v] of Object.entries(objective.namedVariables())) out[`text/${n}`] = v;
    for (const [n, v] of Object.entries(sgd.namedVariables())) out[`optimizer/${n}`] = v;
    if (ema) for (const [n, v] of Object.entries(ema.namedVariables())) out[`ema/model/${n}`] = v;
    return out;
  };

  /** A step up to its one read-back: the gradients and the metrics' tensor (terms, correct, out-of-range labels, gradient norm). */
  const beginStep = (batch: Batch, totalSteps: number): { lr: number; grads: tf.NamedTensorMap; all: Tensor } => {
    const lr = schedule(step, totalSteps);
    const stepSeed = rng.seed32();
    const varList = params.map((p) => p.variable);
    let stats: Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(batch.images, { training: true, seed: stepSeed });
      const terms = objective.computeLoss(out, batch.labels, { training: true, seed: stepSeed });
      const k = out.logits.shape[1];
      const labels = tf.cast(batch.labels, 'int32');
      const outOfRange = tf.sum(tf.cast(tf.logicalOr(tf.less(labels, 0), tf.greaterEqual(labels, k)), 'float32'));
      stats = tf.keep(tf.stack([terms.ce, terms.mm, terms.ot, terms.total, tf.cast(countCorrect(out.logits, batch.labels), 'float32'), outOfRange]));
      return terms.total;
    }, varList);
    const gradList = params.map((p) => grads[p.variable.name]).filter((g): g is Tensor => g !== undefined);
    const normT = globalNorm(gradList);
    try {
      return { lr, grads, all: tf.tidy(() => tf.concat([stats!, tf.reshape(normT, [1])])) };
    } finally {
      tf.dispose([value, stats!, normT]);
    }
  };

  const trainStep = (batch: Batch, totalSteps: number): StepMetrics => {
    const begun = beginStep(batch, totalSteps);
    return finishStep(batch, begun, begun.all.dataSync() as Float32Array);
  };

  const trainStepAsync = async (batch: Batch, totalSteps: number): Promise<StepMetrics> => {
    const begun = beginStep(batch, totalSteps);
    return finishStep(batch, begun, (await begun.all.data()) as Float32Array);
  };

  /** The rest of a step once its metrics are read: the checks (before any update), clipping, SGD, EMA, sums. */
  const finishStep = (batch: Batch, { lr, grads, all }: { lr: number; grads: tf.NamedTensorMap; all: Tensor }, values: Float32Array): StepMetrics => {
    all.dispose();
    const [ce, mm, ot, total, correct, outOfRange, gradNorm] = Array.from(values) as [number, number, number, number, number, number, number];
    if (outOfRange > 0) {
      tf.dispose(Object.values(grads));
      throw new ConfigError(
        `Batch ${batchInEpoch} of epoch ${epoch} holds ${outOfRange} label(s) outside [0, ${model.numClasses}) (the model has ${model.numClasses} classes). No update was applied.`,
      );
    }
    const n = batch.labels.shape[0];
    const bad = (['ce', 'mm', 'ot', 'total'] as const).find((_, i) => !Number.isFinite(values[i]!));
    if (bad || !Number.isFinite(gradNorm)) {
      tf.dispose(Object.values(grads));
      const term = bad ?? 'gradient';
      const v = bad ? { ce, mm, ot, total }[bad] : gradNorm;
      throw new NonFiniteLossError(term, v, step, epoch, batchInEpoch);
    }
    const factor = clip === undefined ? 1 : clipFactor(gradNorm, clip);
    const updates = params
      .filter((p) => grads[p.variable.name] !== undefined)
      .map((p) => ({ name: p.name, variable: p.variable, grad: grads[p.variable.name]! }));
    try {
      if (factor < 1) {
        const scaled = updates.map((u) => ({ ...u, grad: tf.mul(u.grad, factor) }));
        try {
          sgd.step(scaled, lr);
        } finally {
          tf.dispose(scaled.map((u) => u.grad));
        }
      } else {
        sgd.step(updates, lr);
      }
    } finally {
      tf.dispose(Object.values(grads));
    }
    ema?.update();
    const metrics: StepMetrics = { step, epoch, batch: batchInEpoch, learningRate: lr, ce, mm, ot, total, accuracy: correct / n, gradNorm, batchSize: n };
    step += 1;
    batchInEpoch += 1;
    sums.ce += ce * n;
    sums.mm += mm * n;
    sums.ot += ot * n;
    sums.total += total * n;
    sums.correct += correct;
    sums.count += n;
    sums.steps += 1;
    return metrics;
  };

  const evaluateRaw = async (dataset: Dataset, batchSize: number): Promise<EvaluationMetrics> => {
    let ceSum = 0;
    let correct = 0;
    let count = 0;
    for await (const batch of dataset.batches({ batchSize, seed: 0, epoch: 0, shuffle: false, augment: false })) {
      try {
        const r = tf.tidy(() => {
          const out = model.forward(batch.images, { training: false });
          return tf.stack([softmaxCrossEntropy(out.logits, batch.labels), tf.cast(countCorrect(out.logits, batch.labels), 'float32')]);
        });
        const [c, k] = Array.from(await r.data());
        r.dispose();
        const n = batch.labels.shape[0];
        ceSum += c! * n;
        correct += k!;
        count += n;
      } finally {
        tf.dispose([batch.images, batch.labels]);
      }
    }
    return { ce: count ? ceSum / count : Number.NaN, accuracy: count ? correct / count : Number.NaN, count };
  };

  const evaluate: Trainer['evaluate'] = async (dataset, opts) => {
    const useEma = opts.useEma ?? ema !== null;
    if (useEma && !ema) throw new ConfigError('evaluate({ useEma: true }) needs a trainer with an EMA.');
    return useEma ? ema!.withAveraged(() => evaluateRaw(dataset, opts.batchSize)) : evaluateRaw(dataset, opts.batchSize);
  };

  const stateJson = (): CheckpointState => ({
    format: CHECKPOINT_FORMAT,
    version: 1,
    step,
    epoch,
    batchInEpoch,
    totalSteps: totalStepsOfRun,
    seed,
    rng: rng.getState(),
    optimizer: sgd.getState(),
    epochSums: { ...sums },
    history,
    config,
  });

  const saveCheckpoint = (dir: string): Promise<void> => writeCheckpoint(dir, checkpointVariables(), stateJson());

  const loadCheckpoint = async (dir: string): Promise<TrainerPosition> => {
    const state = await readCheckpoint(dir, checkpointVariables());
    step = state.step;
    epoch = state.epoch;
    batchInEpoch = state.batchInEpoch;
    totalStepsOfRun = (state['totalSteps'] as number | null) ?? null;
    rng.setState(state['rng'] as RngState);
    sgd.setState((state['optimizer'] as SgdState | undefined) ?? { started: [] });
    sums = { ...zeroSums(), ...(state['epochSums'] as EpochSums) };
    history.length = 0;
    history.push(...((state['history'] as EpochMetrics[]) ?? []));
    return { step, epoch, batchInEpoch };
  };

  /** After an update: every weight finite, or a named error before any checkpoint is written. */
  const checkWeightsFinite = (): void => {
    const named: Record<string, Tensor> = {};
    for (const [n, v] of Object.entries(model.namedVariables())) named[`model/${n}`] = v;
    for (const [n, v] of Object.entries(objective.namedVariables())) named[`text/${n}`] = v;
    const bad = nonFiniteNames(named);
    if (bad.length > 0) {
      throw new NonFiniteError(
        `After step ${step} (epoch ${epoch}) the weight '${bad[0]}'${bad.length > 1 ? ` and ${bad.length - 1} more` : ''} hold NaN or Infinity: the run diverged (try a lower learning rate or clipGradNorm). No checkpoint was written for this epoch.`,
      );
    }
  };

  const fit: Trainer['fit'] = async (train, opts) => {
    const { epochs, batchSize } = opts;
    if (!Number.isInteger(epochs) || epochs <= 0) throw new ConfigError(`epochs must be a positive integer, got ${epochs}.`);
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}.`);
    const dropLast = opts.dropLast ?? false;
    const perEpoch = train.numBatches({ batchSize, dropLast });
    const totalSteps = epochs * perEpoch;
    if (totalStepsOfRun !== null && totalStepsOfRun !== totalSteps) {
      throw new ConfigError(`This run was started with ${totalStepsOfRun} total steps; fit now asks for ${totalSteps} (${epochs} epochs × ${perEpoch} batches). Resume with the same epochs, batch size and dataset.`);
    }
    totalStepsOfRun = totalSteps;
    const everySteps = opts.checkpoint?.everySteps;
    const stream = opts.progress === true ? process.stderr : opts.progress || null;
    stopRequested = false;
    while (epoch < epochs) {
      const bar = stream ? createProgressBar({ total: perEpoch, label: `epoch ${epoch + 1}/${epochs}`, unit: 'batch', stream }) : null;
      bar?.update(batchInEpoch);
      const iterable = train.batches({ batchSize, seed, epoch, shuffle: true, dropLast, skipBatches: batchInEpoch, augment: opts.augment ?? true });
      for await (const batch of iterable) {
        let metrics: StepMetrics;
        try {
          metrics = await trainStepAsync(batch, totalSteps);
        } finally {
          tf.dispose([batch.images, batch.labels]);
        }
        bar?.tick(1, `loss ${metrics.total.toFixed(4)} acc ${(metrics.accuracy * 100).toFixed(1)}%`);
        if (opts.onStep) await opts.onStep(metrics);
        if (stopRequested) {
          bar?.done('stopped');
          checkWeightsFinite();
          if (opts.checkpoint) await saveCheckpoint(opts.checkpoint.dir);
          return { history: [...history], stopped: true, step };
        }
        if (opts.checkpoint && everySteps && step % everySteps === 0 && batchInEpoch < perEpoch) {
          checkWeightsFinite();
          await saveCheckpoint(opts.checkpoint.dir);
        }
      }
      bar?.done();
      checkWeightsFinite();
      if (sums.steps !== perEpoch) throw new ConfigError(`The dataset delivered ${sums.steps} batches in epoch ${epoch}, numBatches says ${perEpoch}.`);
      const validation = opts.validate
        ? await opts.validate(epoch)
        : opts.validation
          ? await evaluate(opts.validation, { batchSize: opts.validationBatchSize ?? batchSize })
          : null;
      const c = sums.count;
      const metrics: EpochMetrics = {
        epoch,
        steps: sums.steps,
        train: { ce: sums.ce / c, mm: sums.mm / c, ot: sums.ot / c, total: sums.total / c, accuracy: sums.correct / c },
        validation,
      };
      history.push(metrics);
      epoch += 1;
      batchInEpoch = 0;
      sums = zeroSums();
      if (opts.checkpoint) await saveCheckpoint(opts.checkpoint.dir);
      if (opts.onEpochEnd) await opts.onEpochEnd(metrics);
      if (stopRequested) return { history: [...history], stopped: true, step };
    }
    return { history: [...history], stopped: false, step };
  };

  return {
    config,
    get position() {
      return { step, epoch, batchInEpoch };
    },
    get history() {
      return history;
    },
    fit,
    trainStep: (batch, totalSteps) => trainStep(batch, totalSteps),
    trainStepAsync: (batch, totalSteps) => trainStepAsync(batch, totalSteps),
    evaluate,
    requestStop: () => {
      stopRequested = true;
    },
    saveCheckpoint,
    loadCheckpoint,
    async exportClassifier(dir, opts = {}) {
      const useEma = opts.useEma ?? ema !== null;
      const save = () => saveVariables(dir, model.namedVariables(), { name: model.name, config: model.config, params: model.countParams(), ema: useEma });
      if (useEma) {
        if (!ema) throw new ConfigError('exportClassifier({ useEma: true }) needs a trainer with an EMA.');
        await ema.withAveraged(save);
      } else await save();
    },
    checkpointVariables,
    ema,
    dispose() {
      sgd.dispose();
      ema?.dispose();
    },
  };
}
