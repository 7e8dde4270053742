/**
 * `study.json`: every run's metrics, per arm the mean with a 95 % interval, and per arm the paired
 * difference to the baseline arm with a 95 % interval (paired t over the seeds both have finished).
 * Also the merge of shard outputs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, FileFormatError, NotFoundError } from '@lico/core';
import { meanInterval, pairedDifference, type MeanInterval, type PairedDifference } from './statistics';
import { planRuns, shardRuns, studyFingerprint, type PlannedRun, type Shard, type StudyDefinition } from './study-definition';

/** One run's record in `study.json`. */
export interface StudyRunRecord {
  readonly id: string;
  readonly arm: string;
  readonly seed: number;
  readonly status: 'done' | 'pending';
  /** Metric key → value (see {@link metricCatalogue}). Empty while pending. */
  readonly metrics: Readonly<Record<string, number>>;
  /** Validation accuracy after the epochs in `validationEpochs` (runs with a validation split). */
  readonly validationCurve?: readonly number[];
  /** The (1-based) epochs `validationCurve` was measured after. */
  readonly validationEpochs?: readonly number[];
  /** Training loss (total) per epoch. */
  readonly lossCurve?: readonly number[];
  /** Wall seconds of the invocations that trained and evaluated it (the finishing ones). */
  readonly trainSeconds?: number;
  readonly evalSeconds?: number;
  /** Whether the training was resumed from a checkpoint. */
  readonly resumed?: boolean;
}

/** What a metric is and which way is better. */
export interface MetricInfo {
  readonly key: string;
  readonly label: string;
  readonly better: 'higher' | 'lower';
}

/** The machine a shard ran on. */
export interface MachineRecord {
  readonly shard: string;
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly backend: string;
  /** The build of lico's wasm kernels (`'simd'`, `'relaxed-simd'`); absent in older results, null off wasm. */
  readonly wasmKernels?: string | null;
  /** How lico's wasm kernels ran stride-1 3×3 convs (`'winograd-4x4'`, `'winograd'` (F(2×2)), `'direct'`); absent in older results, null off wasm. */
  readonly wasmConv?: string | null;
  readonly threads: number | null;
  /** 1-minute load average when the shard (re)started. */
  readonly loadAtStart: number;
  readonly startedAt: string;
  readonly command: string;
}

/** `study.json`. */
export interface StudyResults {
  readonly schema: 'lico.study-results/1';
  readonly definition: StudyDefinition;
  /** SHA-256 of the definition (without its description). */
  readonly fingerprint: string;
  /** The shards this file covers, e.g. `[{ index: 1, count: 2 }]`, or every shard after a merge. */
  readonly shards: readonly Shard[];
  readonly complete: boolean;
  readonly runsTotal: number;
  readonly runsDone: number;
  readonly runs: readonly StudyRunRecord[];
  readonly metrics: readonly MetricInfo[];
  /** Per arm, per metric: mean over the seeds done, with a Student-t 95 % interval. */
  readonly arms: Readonly<Record<string, Readonly<Record<string, MeanInterval>>>>;
  /** Per non-baseline arm, per metric: arm − baseline over the seeds both have done. */
  readonly paired: Readonly<Record<string, Readonly<Record<string, PairedDifference>>>>;
  readonly pairedMethod: string;
  readonly protocol: Readonly<Record<string, unknown>>;
  readonly machines: readonly MachineRecord[];
  /** Sum of the runs' train + evaluation seconds. */
  readonly computeSeconds: number;
  readonly updatedAt: string;
}

/** The metrics a study reports for its interpreters (and masks, when the dataset has them). */
export function metricCatalogue(interpreters: readonly string[], withMasks: boolean): MetricInfo[] {
  const out: MetricInfo[] = [
    { key: 'accuracy', label: 'test accuracy', better: 'higher' },
    { key: 'validationAccuracy', label: 'validation accuracy (last epoch)', better: 'higher' },
  ];
  for (const i of interpreters) {
    out.push({ key: `insertion.${i}`, label: `insertion AUC (${i})`, better: 'higher' });
    out.push({ key: `deletion.${i}`, label: `deletion AUC (${i})`, better: 'lower' });
    if (withMasks) {
      out.push({ key: `pointingGame.${i}`, label: `pointing game (${i})`, better: 'higher' });
      out.push({ key: `energyInMask.${i}`, label: `energy in mask (${i})`, better: 'higher' });
    }
  }
  return out;
}

/** Per-arm intervals and paired differences from the finished runs. */
export function summarize(definition: StudyDefinition, runs: readonly StudyRunRecord[]): Pick<StudyResults, 'metrics' | 'arms' | 'paired'> {
  const done = runs.filter((r) => r.status === 'done');
  const keys = new Set(done.flatMap((r) => Object.keys(r.metrics)));
  const withMasks = [...keys].some((k) => k.startsWith('pointingGame.'));
  const metrics = metricCatalogue(definition.evaluation.interpreters, withMasks).filter((m) => keys.has(m.key));
  const byArm = (arm: string) => new Map(done.filter((r) => r.arm === arm).map((r) => [r.seed, r] as const));
  const arms: Record<string, Record<string, MeanInterval>> = {};
  const paired: Record<string, Record<string, PairedDifference>> = {};
  const base = byArm(definition.baseline);
  for (const arm of definition.arms) {
    const mine = byArm(arm.name);
    const stats: Record<string, MeanInterval> = {};
    const diffs: Record<string, PairedDifference> = {};
    for (const m of metrics) {
      const values = definition.seeds.flatMap((s) => {
        const v = mine.get(s)?.metrics[m.key];
        return v !== undefined && Number.isFinite(v) ? [v] : [];
      });
      if (values.length > 0) stats[m.key] = meanInterval(values);
      if (arm.name === definition.baseline) continue;
      const seeds = definition.seeds.filter((s) => Number.isFinite(mine.get(s)?.metrics[m.key] ?? Number.NaN) && Number.isFinite(base.get(s)?.metrics[m.key] ?? Number.NaN));
      if (seeds.length > 0) {
        diffs[m.key] = pairedDifference(
          seeds,
          seeds.map((s) => mine.get(s)!.metrics[m.key]!),
          seeds.map((s) => base.get(s)!.metrics[m.key]!),
        );
      }
    }
    arms[arm.name] = stats;
    if (arm.name !== definition.baseline) paired[arm.name] = diffs;
  }
  return { metrics, arms, paired };
}

/** Builds `study.json` for the shards `shards` from their run records. */
export function buildStudyResults(options: {
  definition: StudyDefinition;
  shards: readonly Shard[];
  runs: readonly StudyRunRecord[];
  protocol: Readonly<Record<string, unknown>>;
  machines: readonly MachineRecord[];
}): StudyResults {
  const { definition } = options;
  const runsTotal = options.runs.length;
  const runsDone = options.runs.filter((r) => r.status === 'done').length;
  const covered = new Set(options.shards.map((s) => s.index));
  const count = options.shards[0]?.count ?? 1;
  const allShards = covered.size === count;
  return {
    schema: 'lico.study-results/1',
    definition,
    fingerprint: studyFingerprint(definition),
    shards: [...options.shards].sort((a, b) => a.index - b.index),
    complete: allShards && runsDone === planRuns(definition).length,
    runsTotal,
    runsDone,
    runs: options.runs,
    ...summarize(definition, options.runs),
    pairedMethod: 'paired t (Student, n-1 degrees of freedom) over the seeds both arms have finished; 95 % interval mean ± t(0.975, n-1)·sd/sqrt(n)',
    protocol: options.protocol,
    machines: options.machines,
    computeSeconds: options.runs.reduce((a, r) => a + (r.trainSeconds ?? 0) + (r.evalSeconds ?? 0), 0),
    updatedAt: new Date().toISOString(),
  };
}

/** Reads and checks `DIR/study.json`. */
export function readStudyResults(dir: string): StudyResults {
  const file = join(resolve(dir), 'study.json');
  if (!existsSync(file)) throw new NotFoundError(`'${dir}' holds no study.json (a directory written by lico study).`);
  let data: StudyResults;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as StudyResults;
  } catch (error) {
    throw new FileFormatError(file, `not valid JSON: ${(error as Error).message}`);
  }
  if (data?.schema !== 'lico.study-results/1' || !Array.isArray(data.runs) || !Array.isArray(data.shards) || typeof data.fingerprint !== 'string') {
    throw new FileFormatError(file, 'not a lico study result (schema lico.study-results/1).');
  }
  return data;
}

/**
 * Merges shard outputs. All must hold the same study (same fingerprint) split the same way, and
 * together cover every shard exactly once; otherwise a `ConfigError` names what is wrong.
 * Unfinished runs stay `pending` (the merged study then says `complete: false`).
 */
export function mergeStudyResults(parts: readonly { dir: string; results: StudyResults }[]): StudyResults {
  if (parts.length === 0) throw new ConfigError("'lico study merge' needs at least one study directory.");
  const first = parts[0]!;
  for (const p of parts.slice(1)) {
    if (p.results.fingerprint !== first.results.fingerprint) {
      throw new ConfigError(
        `'${p.dir}' holds another study than '${first.dir}' (definition fingerprints ${p.results.fingerprint.slice(0, 12)} and ${first.results.fingerprint.slice(0, 12)}): merge only the shards of one study.`,
      );
    }
  }
  const count = first.results.shards[0]?.count ?? 1;
  const seen = new Map<number, string>();
  for (const p of parts) {
    for (const s of p.results.shards) {
      if (s.count !== count) throw new ConfigError(`'${p.dir}' is shard ${s.index}/${s.count} but '${first.dir}' is of a split into ${count}: merge shards of one split.`);
      const other = seen.get(s.index);
      if (other !== undefined) throw new ConfigError(`shard ${s.index}/${count} is given twice ('${other}' and '${p.dir}').`);
      seen.set(s.index, p.dir);
    }
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) {
    throw new ConfigError(`the shards given do not cover the study: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing.`);
  }
  const definition = first.results.definition;
  const byId = new Map<string, StudyRunRecord>();
  for (const p of parts) {
    const expected = new Set(p.results.shards.flatMap((s) => shardRuns(planRuns(definition), s).map((r) => r.id)));
    for (const r of p.results.runs) {
      if (!expected.has(r.id)) throw new FileFormatError(join(p.dir, 'study.json'), `records run '${r.id}', which is not in its shard(s).`);
      byId.set(r.id, r);
    }
  }
  const runs = planRuns(definition).map((r: PlannedRun) => byId.get(r.id) ?? { id: r.id, arm: r.arm, seed: r.seed, status: 'pending' as const, metrics: {} });
  return buildStudyResults({
    definition,
    shards: [...seen.keys()].map((index) => ({ index, count })),
    runs,
    protocol: first.results.protocol,
    machines: parts.flatMap((p) => p.results.machines),
  });
}
