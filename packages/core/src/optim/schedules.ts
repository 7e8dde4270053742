import { ConfigError } from '../errors';

/**
 * A learning-rate schedule: a plain function of the step `k` (0-based) and the run's total number
 * of steps `K`, with its choices in `config`.
 */
export interface Schedule {
  (step: number, totalSteps: number): number;
  readonly config: Readonly<Record<string, unknown>>;
}

/** Options every schedule takes. */
export interface ScheduleOptions {
  /** Base learning rate `η0` (default 0.03, the paper's). */
  readonly learningRate?: number;
  /** Linear warm-up over this many steps, from `η0/warmupSteps` to `η0` (default 0). */
  readonly warmupSteps?: number;
}

function base(options: ScheduleOptions): { lr0: number; warmup: number } {
  const lr0 = options.learningRate ?? 0.03;
  const warmup = options.warmupSteps ?? 0;
  if (!Number.isFinite(lr0) || lr0 < 0) throw new ConfigError(`learningRate must be a finite number >= 0, got ${lr0}.`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new ConfigError(`warmupSteps must be an integer >= 0, got ${warmup}.`);
  return { lr0, warmup };
}

function make(fn: (k: number, total: number) => number, config: Record<string, unknown>): Schedule {
  return Object.assign(fn, { config });
}

/** A constant learning rate (after optional warm-up). */
export function constantSchedule(options: ScheduleOptions = {}): Schedule {
  const { lr0, warmup } = base(options);
  return make((k) => (k < warmup ? (lr0 * (k + 1)) / warmup : lr0), { name: 'constant', learningRate: lr0, warmupSteps: warmup });
}

/**
 * The per-step cosine of FixMatch and LICO: `η_k = η0·cos(7πk / 16K)` (ends at `η0·cos(7π/16)` ≈
 * 0.195·η0). With warm-up, `k` counts from the end of the warm-up and `K` excludes it.
 */
export function licoCosineSchedule(options: ScheduleOptions = {}): Schedule {
  const { lr0, warmup } = base(options);
  return make(
    (k, total) => {
      if (k < warmup) return (lr0 * (k + 1)) / warmup;
      const kk = k - warmup;
      const kt = Math.max(1, total - warmup);
      return lr0 * Math.cos((7 * Math.PI * kk) / (16 * kt));
    },
    { name: 'lico-cosine', formula: 'lr0*cos(7*pi*k/(16*K))', learningRate: lr0, warmupSteps: warmup },
  );
}

/** Plain cosine annealing `η_min + (η0 − η_min)(1 + cos(πk/K))/2`, after optional warm-up. */
export function cosineSchedule(options: ScheduleOptions & { readonly minLearningRate?: number } = {}): Schedule {
  const { lr0, warmup } = base(options);
  const min = options.minLearningRate ?? 0;
  if (!Number.isFinite(min) || min < 0) throw new ConfigError(`minLearningRate must be a finite number >= 0, got ${min}.`);
  return make(
    (k, total) => {
      if (k < warmup) return (lr0 * (k + 1)) / warmup;
      const kk = k - warmup;
      const kt = Math.max(1, total - warmup);
      return min + ((lr0 - min) * (1 + Math.cos((Math.PI * kk) / kt))) / 2;
    },
    { name: 'cosine', formula: 'min+(lr0-min)*(1+cos(pi*k/K))/2', learningRate: lr0, minLearningRate: min, warmupSteps: warmup },
  );
}
