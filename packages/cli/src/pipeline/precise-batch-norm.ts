/**
 * "Precise BN" (Wu & Johnson 2021): after training, replace the batch-norm moving statistics by the
 * average of the batch statistics over a few training batches.
 *
 * Why: the FixMatch WideResNet keeps moving averages with decay 0.999, which suit 200-epoch runs;
 * after a few hundred steps they are still mostly their initial values and evaluation-mode accuracy
 * collapses. The backbones expose the statistics only as `nonTrainableVariables()`, so the batch
 * statistics are read through the update rule every such variable follows in training mode,
 * `v ← (1−m)·v + m·b`: starting from `v = 0` a forward pass leaves `m·b`, and starting from `v = 1`
 * it leaves `1 − m + m·b`, which gives `m`. Variables that do not follow that rule (e.g. counters,
 * `m` outside (0, 1]) keep their values.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Dataset, ImageClassifier } from '@lico/core';

/** Options of {@link preciseBatchNorm}. */
export interface PreciseBatchNormOptions {
  /** Batches averaged (default 20). */
  readonly batches?: number;
  readonly batchSize?: number;
  /** Seed of the batch order (default 0). */
  readonly seed?: number;
}

/** What {@link preciseBatchNorm} did (recorded in results.json). */
export interface PreciseBatchNormResult {
  readonly method: 'precise-bn';
  readonly batches: number;
  readonly batchSize: number;
  /** Variables whose values were replaced. */
  readonly variables: number;
  /** Variables left alone (not a moving average). */
  readonly skipped: number;
}

function forwardTraining(model: ImageClassifier, batch: Batch): void {
  tf.tidy(() => {
    model.forward(batch.images, { training: true });
  });
}

/** Recomputes the model's moving statistics from `dataset` (deterministic for a seed). */
export async function preciseBatchNorm(model: ImageClassifier, dataset: Dataset, options: PreciseBatchNormOptions = {}): Promise<PreciseBatchNormResult> {
  const wanted = options.batches ?? 20;
  const batchSize = Math.min(options.batchSize ?? 64, dataset.size);
  const vars = model.nonTrainableVariables();
  if (vars.length === 0) return { method: 'precise-bn', batches: 0, batchSize, variables: 0, skipped: 0 };
  const originals = vars.map((v) => tf.keep(tf.clone(v)));
  const sums: tf.Tensor[] = [];
  const momenta: number[] = [];
  let used = 0;
  try {
    for await (const batch of dataset.batches({ batchSize, seed: options.seed ?? 0, epoch: 0, shuffle: true, augment: false, dropLast: true })) {
      try {
        if (used === 0) {
          for (const v of vars) v.assign(tf.onesLike(v));
          forwardTraining(model, batch);
          const fromOne = vars.map((v) => tf.keep(tf.clone(v)));
          for (const v of vars) v.assign(tf.zerosLike(v));
          forwardTraining(model, batch);
          // One read-back for all variables' momenta (awaited: no synchronous GPU read).
          const m = tf.tidy(() => tf.stack(vars.map((v, i) => tf.mean(tf.sub(1, tf.sub(fromOne[i]!, v))))));
          momenta.push(...(await m.data()));
          m.dispose();
          for (const v of vars) sums.push(tf.keep(tf.clone(v)));
          tf.dispose(fromOne);
        } else {
          for (const v of vars) v.assign(tf.zerosLike(v));
          forwardTraining(model, batch);
          vars.forEach((v, i) => {
            const next = tf.keep(tf.add(sums[i]!, v));
            sums[i]!.dispose();
            sums[i] = next;
          });
        }
      } finally {
        tf.dispose([batch.images, batch.labels]);
      }
      used += 1;
      if (used >= wanted) break;
    }
    let replaced = 0;
    vars.forEach((v, i) => {
      const m = momenta[i]!;
      if (used > 0 && Number.isFinite(m) && m > 1e-6 && m <= 1 + 1e-6) {
        v.assign(tf.tidy(() => tf.div(sums[i]!, used * m)));
        replaced += 1;
      } else v.assign(originals[i]!);
    });
    return { method: 'precise-bn', batches: used, batchSize, variables: replaced, skipped: vars.length - replaced };
  } catch (error) {
    vars.forEach((v, i) => v.assign(originals[i]!));
    throw error;
  } finally {
    tf.dispose(originals);
    tf.dispose(sums);
  }
}

/**
 * Runs `f` with precise-BN statistics from `dataset` in place and puts the model's moving
 * statistics back afterwards (also when `f` throws), so training continues exactly as without it.
 */
export async function withPreciseBatchNorm<T>(model: ImageClassifier, dataset: Dataset, options: PreciseBatchNormOptions, f: () => Promise<T>): Promise<T> {
  const vars = model.nonTrainableVariables();
  const saved = vars.map((v) => tf.keep(tf.clone(v)));
  try {
    await preciseBatchNorm(model, dataset, options);
    return await f();
  } finally {
    vars.forEach((v, i) => v.assign(saved[i]!));
    tf.dispose(saved);
  }
}
