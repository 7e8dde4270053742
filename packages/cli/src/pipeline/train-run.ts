/**
 * One training run end to end: backend, data, model, objective, trainer with checkpoints and
 * Ctrl-C handling, final evaluation, exported classifier and `results.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, NonFiniteError, createTrainer, licoCosineSchedule, recoverAtomicDir, writeFileAtomic, type EpochMetrics, type ImageClassifier } from '@lico/core';
import { useBackend, type BackendChoice } from '@lico/backends';
import type { CliIo } from '../run-cli';
import { InterruptedError } from '../run-cli';
import type { EpochRecord, TrainResults } from '../results/results-schema';
import { createBackbone, createObjective, featurePositions, firstSamples, loadDataset, resolveAugmentation, type MethodChoices } from './components';
import * as datasets from '@lico/datasets';
import { preciseBatchNorm, withPreciseBatchNorm, type PreciseBatchNormResult } from './precise-batch-norm';
import { packageVersions } from './versions';
import { checkOutputPath } from './output-path';

/** Everything that defines a training run. */
export interface TrainRunOptions extends MethodChoices {
  readonly dataset: string;
  readonly backbone: string;
  readonly text: string;
  readonly mode: 'baseline' | 'lico';
  readonly labels: number | 'all';
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly alpha: number;
  readonly beta: number;
  readonly evalSize: number | 'all';
  readonly seed: number;
  readonly backend: string;
  /** EMA decay of the evaluated weights, or null for none. */
  readonly ema: number | null;
  readonly weightDecay: number;
  /** Training augmentation: `auto` (default: the spec's for the image size), `none`, `crop`, `crop-flip`, `crop-flip-noise`. */
  readonly augment?: string;
  /** Learnable context vectors `M` (default 12). */
  readonly context?: number;
  /**
   * Size of a class-balanced validation split drawn from the training split, disjoint from the
   * labelled images (default 0: none); its accuracy is recorded after every epoch.
   */
  readonly validation?: number;
  /** Measure the validation split after every k-th epoch and after the last (default 1). */
  readonly validateEvery?: number;
  readonly dataDir?: string;
  /** Allow downloading the dataset into the cache. */
  readonly download?: boolean;
  /** wasm threads (default: `LICO_WASM_THREADS` or 1). */
  readonly threads?: number;
  /** The backend the caller already selected (skips `useBackend`). */
  readonly backendChoice?: BackendChoice;
  readonly out: string;
  readonly resume: boolean;
  readonly quiet: boolean;
  /** The command line to record (default: reconstructed). */
  readonly command?: string;
  /** Extra text for the "how to resume" message (default: the same command with --resume). */
  readonly resumeHint?: string;
  /** Called after every epoch with its record (e.g. a study's progress bar). */
  readonly onEpochEnd?: (record: EpochRecord) => void;
}

/** Options that must match between a run and its resumption. */
const IDENTITY_KEYS = [
  'dataset', 'backbone', 'text', 'mode', 'labels', 'epochs', 'batchSize', 'lr', 'alpha', 'beta', 'seed', 'ema', 'weightDecay', 'augment',
  'context', 'validation', 'validateEvery', 'mmSign', 'temperature', 'otGradient', 'promptVariants',
] as const;

function identityOf(o: TrainRunOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of IDENTITY_KEYS) out[k] = o[k] ?? null;
  return out;
}

/** The files of a run directory. */
export function runPaths(out: string) {
  const dir = resolve(out);
  return {
    dir,
    checkpoint: join(dir, 'checkpoint'),
    model: join(dir, 'model'),
    results: join(dir, 'results.json'),
    runConfig: join(dir, 'run-config.json'),
  };
}

/** A progress stream on the CLI's stderr. */
export function progressStream(io: CliIo) {
  return { write: (s: string) => io.stderr(s), isTTY: io.isTty ?? false, columns: process.stderr.columns };
}

function toEpochRecord(m: EpochMetrics): EpochRecord {
  return {
    epoch: m.epoch + 1,
    loss: m.train.total,
    terms: { ce: m.train.ce, mm: m.train.mm, ot: m.train.ot },
    trainAccuracy: m.train.accuracy,
    steps: m.steps,
    ...(m.validation ? { validationAccuracy: m.validation.accuracy, validationLoss: m.validation.ce } : {}),
  };
}

/** What {@link trainRun} returns. */
export interface TrainRunResult {
  readonly results: TrainResults;
  readonly paths: ReturnType<typeof runPaths>;
  /** Wall time of this invocation in seconds. */
  readonly seconds: number;
}

/**
 * Trains one run. With `resume`, continues from `out/checkpoint` (the options must match the
 * original run's). When `signal` aborts (Ctrl-C) the trainer stops at the next step, writes a
 * checkpoint, and an {@link InterruptedError} says how to resume.
 */
export async function trainRun(options: TrainRunOptions, io: CliIo, signal?: AbortSignal): Promise<TrainRunResult> {
  const t0 = performance.now();
  checkOutputPath(options.out, 'dir', '--out');
  const paths = runPaths(options.out);
  const identity = identityOf(options);
  // After a kill: put back a checkpoint caught between its renames, drop the writers' leftovers.
  for (const p of [paths.checkpoint, paths.model, paths.results, paths.runConfig]) await recoverAtomicDir(p);
  const hasCheckpoint = existsSync(join(paths.checkpoint));
  if (options.resume) {
    if (!hasCheckpoint) {
      throw new ConfigError(`--resume: there is no checkpoint in '${paths.checkpoint}'. Run without --resume to start this run.`);
    }
    if (existsSync(paths.runConfig)) {
      const before = JSON.parse(readFileSync(paths.runConfig, 'utf8')) as Record<string, unknown>;
      const diff = IDENTITY_KEYS.filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(identity[k]));
      if (diff.length > 0) {
        throw new ConfigError(
          `--resume: the run in '${paths.dir}' was started with other options (${diff.map((k) => `${k}: ${JSON.stringify(before[k])} now ${JSON.stringify(identity[k])}`).join('; ')}). Resume with the same options.`,
        );
      }
    }
  } else if (hasCheckpoint || existsSync(paths.results)) {
    throw new ConfigError(`'${paths.dir}' already holds a run. Pass --resume to continue it, or choose another --out.`);
  }
  const say = (line: string) => {
    if (!options.quiet) io.stderr(`${line}\n`);
  };

  const backend = options.backendChoice ?? await useBackend(options.backend, { log: options.quiet ? false : say, ...(options.threads ? { threads: options.threads } : {}) });
  const dataOptions = { ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}), ...(options.download !== undefined ? { download: options.download } : {}) };
  const fullTrain = await loadDataset(options.dataset, 'train', dataOptions);
  const classNames = fullTrain.classNames;
  const imageShape = fullTrain.imageShape;
  const validationSize = options.validation ?? 0;
  const augment = resolveAugmentation(options.augment ?? 'auto', imageShape);
  if (options.labels !== 'all' && options.labels > fullTrain.size - validationSize) {
    throw new ConfigError(
      `--labels ${options.labels} is more than the ${fullTrain.size - validationSize} training images of '${options.dataset}'${validationSize ? ` left after --validation ${validationSize}` : ''}; use --labels all or a smaller number.`,
    );
  }
  let train: datasets.LicoDataset = fullTrain;
  let validation: datasets.LicoDataset | undefined;
  if (options.labels !== 'all' || validationSize > 0) {
    const labels = options.labels === 'all' ? fullTrain.size - validationSize : options.labels;
    if (labels <= 0) throw new ConfigError(`--validation ${validationSize} leaves no training images of the ${fullTrain.size} in '${options.dataset}'.`);
    const split = datasets.limitedLabels(fullTrain, { labelsTotal: labels, seed: options.seed, validation: validationSize });
    train = split.labelled;
    validation = split.validation;
  }
  train = train.withAugmentation(augment.augmentation);
  const test = firstSamples(await loadDataset(options.dataset, 'test', dataOptions), options.evalSize);
  say(
    `lico: ${options.mode} on ${fullTrain.name}: ${train.size} training images (augmentation ${augment.name})` +
      `${validation ? `, ${validation.size} validation images` : ''}, ${test.size} test images, ${classNames.length} classes.`,
  );

  let model: ImageClassifier | undefined;
  let built: Awaited<ReturnType<typeof createObjective>> | undefined;
  let trainer: ReturnType<typeof createTrainer> | undefined;
  const onAbort = () => trainer?.requestStop();
  try {
    model = createBackbone(options.backbone, { numClasses: classNames.length, inputChannels: imageShape[2], seed: options.seed });
    const positions = featurePositions(model, imageShape);
    built = await createObjective({
      mode: options.mode,
      text: options.text,
      classNames,
      positions,
      alpha: options.alpha,
      beta: options.beta,
      seed: options.seed,
      ...(options.context !== undefined ? { numContext: options.context } : {}),
      ...(options.mmSign ? { mmSign: options.mmSign } : {}),
      ...(options.temperature ? { temperature: options.temperature } : {}),
      ...(options.otGradient ? { otGradient: options.otGradient } : {}),
      ...(options.promptVariants ? { promptVariants: options.promptVariants } : {}),
    });
    trainer = createTrainer({
      model,
      objective: built.objective,
      optimizer: { weightDecay: options.weightDecay },
      schedule: licoCosineSchedule({ learningRate: options.lr }),
      ema: options.ema === null ? false : { decay: options.ema },
      seed: options.seed,
    });
    if (options.resume) {
      const at = await trainer.loadCheckpoint(paths.checkpoint);
      say(`lico: resuming from step ${at.step} (epoch ${at.epoch + 1}, batch ${at.batchInEpoch}).`);
    } else {
      await writeFileAtomic(paths.runConfig, `${JSON.stringify(identity, null, 2)}\n`);
    }
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) trainer.requestStop();
    const activeTrainer = trainer;
    const activeModel = model;
    // Validation sees the weights as the final evaluation will: precise-BN statistics without an
    // EMA (the moving averages of decay 0.999 are mostly their initial values early on), restored
    // afterwards so the run is the same with or without validation.
    const every = options.validateEvery ?? 1;
    const measure = validation
      ? options.ema === null
        ? () => withPreciseBatchNorm(activeModel, train, { batches: 20, batchSize: options.batchSize, seed: options.seed }, () => activeTrainer.evaluate(validation, { batchSize: 500 }))
        : () => activeTrainer.evaluate(validation, { batchSize: 500 })
      : undefined;
    const validate = measure ? (epoch: number) => ((epoch + 1) % every === 0 || epoch + 1 === options.epochs ? measure() : Promise.resolve(null)) : undefined;
    const fit = await trainer.fit(train, {
      epochs: options.epochs,
      batchSize: options.batchSize,
      augment: augment.name !== 'none',
      ...(validate ? { validate } : {}),
      ...(options.onEpochEnd ? { onEpochEnd: (m: EpochMetrics) => options.onEpochEnd!(toEpochRecord(m)) } : {}),
      checkpoint: { dir: paths.checkpoint },
      progress: options.quiet ? false : progressStream(io),
    });
    if (fit.stopped) {
      const p = trainer.position;
      throw new InterruptedError(
        `lico: interrupted. Checkpoint saved in ${paths.checkpoint} at step ${p.step} (epoch ${p.epoch + 1}, batch ${p.batchInEpoch}).\n` +
          `To continue, run the same command with --resume${options.resumeHint ? `:\n  ${options.resumeHint}` : '.'}`,
      );
    }
    let batchNorm: PreciseBatchNormResult | null = null;
    if (options.ema === null) {
      say('lico: recomputing the batch-norm statistics from 20 training batches (precise BN)…');
      batchNorm = await preciseBatchNorm(model, train, { batches: 20, batchSize: options.batchSize, seed: options.seed });
    }
    say(`lico: evaluating on ${test.size} test images…`);
    const evaluation = await trainer.evaluate(test, { batchSize: 250 });
    if (!Number.isFinite(evaluation.ce)) {
      throw new NonFiniteError(
        `The trained model's test loss is ${evaluation.ce} (accuracy ${(100 * evaluation.accuracy).toFixed(2)} %): the run diverged (try a lower --lr). No model or results were written to '${paths.dir}'.`,
      );
    }
    await trainer.exportClassifier(paths.model);
    const history = trainer.history.map(toEpochRecord);
    const results: TrainResults = {
      schema: 'lico.train-results/1',
      command: options.command ?? `lico train --dataset ${options.dataset} --backbone ${options.backbone} --mode ${options.mode} --out ${options.out}`,
      mode: options.mode,
      dataset: {
        spec: options.dataset,
        name: fullTrain.name,
        trainSize: train.size,
        testSize: test.size,
        classNames: [...classNames],
        imageShape: [...imageShape],
        labels: options.labels,
        labelSeed: options.seed,
      },
      backbone: { name: options.backbone, config: { ...model.config }, params: model.countParams() },
      text: built.text,
      objective: { ...built.objective.config },
      training: {
        epochs: options.epochs,
        batchSize: options.batchSize,
        seed: options.seed,
        learningRate: options.lr,
        augment: { name: augment.name, requested: options.augment ?? 'auto', ...augment.augmentation },
        validation: validation ? { size: validation.size, every: options.validateEvery ?? 1, source: 'class-balanced, from the training split, disjoint from the labelled images (seeded)', batchNorm: options.ema === null ? 'precise BN from 20 training batches, restored after' : 'EMA weights' } : null,
        method: {
          mmSign: options.mmSign ?? 'minus',
          temperature: options.temperature ?? 'divisor',
          otGradient: options.otGradient ?? 'detached-plan',
          promptVariants: options.promptVariants ?? 'roll',
          context: options.context ?? 12,
          alpha: options.alpha,
          beta: options.beta,
          weightDecay: options.weightDecay,
          ema: options.ema,
        },
        evalSize: options.evalSize,
        batchNormStatistics: batchNorm ?? 'the EMA of the weights and moving statistics',
        trainer: trainer.config,
      },
      backend: { requested: options.backend, used: backend.backend, packageName: backend.packageName, wasmKernels: backend.wasmKernels ?? null, wasmConv: backend.wasmConv ?? null },
      versions: packageVersions(),
      history,
      resumed: options.resume,
      final: {
        accuracy: evaluation.accuracy,
        evalSize: evaluation.count,
        loss: evaluation.ce,
        epochs: options.epochs,
        steps: trainer.position.step,
      },
    };
    await writeFileAtomic(paths.results, `${JSON.stringify(results, null, 2)}\n`);
    say(`lico: test accuracy ${(100 * evaluation.accuracy).toFixed(2)} % (${evaluation.count} images). Results: ${paths.results}`);
    return { results, paths, seconds: (performance.now() - t0) / 1000 };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    trainer?.dispose();
    built?.dispose();
    model?.dispose();
  }
}
