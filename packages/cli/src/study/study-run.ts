/**
 * Runs a study (or one shard of it): each run is `lico train` + `lico evaluate` in
 * `OUT/runs/<arm>/seed-<seed>/`. Resumable at every point: a finished run is never redone, an
 * interrupted training continues from its checkpoint, an interrupted evaluation starts again.
 * `OUT/study.json` and `OUT/report.html` are rewritten after every run.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, createProgressBar, writeFileAtomic } from '@lico/core';
import { useBackend } from '@lico/backends';
import type { CliIo } from '../run-cli';
import { InterruptedError } from '../run-cli';
import type { EvaluationResults, TrainResults } from '../results/results-schema';
import { parseCommandArgs } from '../args/options';
import { TRAIN_RUN_OPTIONS } from '../args/command-specs';
import { runDefinitionOf } from '../commands/train-command';
import { CLI_SALIENCY_PROTOCOL, evaluateRun } from '../pipeline/evaluate-run';
import { progressStream, trainRun } from '../pipeline/train-run';
import { checkOutputPath } from '../pipeline/output-path';
import { planRuns, shardRuns, studyFingerprint, type PlannedRun, type Shard, type StudyDefinition } from './study-definition';
import { buildStudyResults, readStudyResults, type MachineRecord, type StudyResults, type StudyRunRecord } from './study-results';
import { writeStudyReport } from './study-report';

/** Options of {@link studyRun}. */
export interface StudyRunOptions {
  readonly definition: StudyDefinition;
  readonly out: string;
  /** Run only this share (default: all runs, as shard 1/1). */
  readonly shard?: Shard;
  readonly backend: string;
  readonly threads?: number;
  readonly dataDir?: string;
  readonly quiet: boolean;
  /** The command line, for the record. */
  readonly command: string;
}

/** What `lico study` records about its protocol (beside the definition). */
export function studyProtocol(definition: StudyDefinition): Record<string, unknown> {
  return {
    pairing: 'within a seed every arm uses the same labelled subset, validation split, batch order, augmentation draws and backbone initialisation (all derived from the seed)',
    evaluation: { ...definition.evaluation, ...CLI_SALIENCY_PROTOCOL, riseMasks: definition.evaluation.riseMasks },
    batchNormStatistics: 'precise BN (20 training batches) before validation and the final evaluation when no EMA is used',
    testSplit: 'used only for the final metrics of each run; nothing is tuned on it',
  };
}

/** The `lico train` options of one arm as `TrainRunOptions` fields. */
export function armRunDefinition(definition: StudyDefinition, arm: string) {
  const a = definition.arms.find((x) => x.name === arm);
  if (!a) throw new ConfigError(`The study has no arm '${arm}'.`);
  const argv = Object.entries(a.options).flatMap(([k, v]) => [`--${k}`, String(v)]);
  return runDefinitionOf(parseCommandArgs({ name: 'study arm', summary: '', options: TRAIN_RUN_OPTIONS }, argv));
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * The record of a finished run: its `run-record.json`, else its entry in the study's `study.json`
 * (so a checkout holding only the committed `study.json` continues without redoing it); null when
 * it is not finished.
 */
function finishedRecord(run: PlannedRun, dir: string, previous: ReadonlyMap<string, StudyRunRecord>): StudyRunRecord | null {
  const done = readJson<StudyRunRecord>(join(dir, 'run-record.json')) ?? previous.get(run.id) ?? null;
  return done && done.id === run.id && done.status === 'done' && done.arm === run.arm && done.seed === run.seed ? done : null;
}

/** The finished runs recorded in `OUT/study.json` of the same study, by id. */
function previousRecords(out: string, definition: StudyDefinition): Map<string, StudyRunRecord> {
  const file = join(resolve(out), 'study.json');
  if (!existsSync(file)) return new Map();
  const before = readStudyResults(out);
  if (before.fingerprint !== studyFingerprint(definition)) return new Map();
  return new Map(before.runs.filter((r) => r.status === 'done').map((r) => [r.id, r]));
}

function recordOf(run: PlannedRun, train: TrainResults, evaluation: EvaluationResults, seconds: { train: number; eval: number }): StudyRunRecord {
  const metrics: Record<string, number> = { accuracy: evaluation.accuracy };
  const measured = train.history.filter((h) => h.validationAccuracy !== undefined);
  const curve = measured.map((h) => h.validationAccuracy!);
  if (curve.length > 0) metrics.validationAccuracy = curve[curve.length - 1]!;
  for (const [name, s] of Object.entries(evaluation.saliency)) {
    metrics[`insertion.${name}`] = s.insertion;
    metrics[`deletion.${name}`] = s.deletion;
  }
  for (const [name, l] of Object.entries(evaluation.localisation ?? {})) {
    metrics[`pointingGame.${name}`] = l.pointingGame;
    metrics[`energyInMask.${name}`] = l.energyInMask;
  }
  return {
    id: run.id,
    arm: run.arm,
    seed: run.seed,
    status: 'done',
    metrics,
    ...(curve.length > 0 ? { validationCurve: curve, validationEpochs: measured.map((h) => h.epoch) } : {}),
    lossCurve: train.history.map((h) => h.loss),
    trainSeconds: seconds.train,
    evalSeconds: seconds.eval,
    resumed: train.resumed,
  };
}

/** Lists what a study (shard) would run, and what is already done in `out`. */
export function describePlan(definition: StudyDefinition, out: string, shard: Shard): { run: PlannedRun; dir: string; state: 'done' | 'checkpoint' | 'trained' | 'new' }[] {
  const previous = previousRecords(out, definition);
  return shardRuns(planRuns(definition), shard).map((run) => {
    const dir = join(resolve(out), 'runs', run.arm, `seed-${run.seed}`);
    const state = finishedRecord(run, dir, previous) ? 'done' : existsSync(join(dir, 'results.json')) ? 'trained' : existsSync(join(dir, 'checkpoint')) ? 'checkpoint' : 'new';
    return { run, dir, state };
  });
}

/** Runs a study (shard) to the end, or until `signal` aborts (then a checkpoint is saved). */
export async function studyRun(options: StudyRunOptions, io: CliIo, signal?: AbortSignal): Promise<StudyResults> {
  const { definition } = options;
  const shard = options.shard ?? { index: 1, count: 1 };
  checkOutputPath(options.out, 'dir', '--out');
  const out = resolve(options.out);
  const studyFile = join(out, 'study.json');
  const say = (line: string) => {
    if (!options.quiet) io.stderr(`${line}\n`);
  };
  let machines: MachineRecord[] = [];
  if (existsSync(studyFile)) {
    const before = readStudyResults(out);
    if (before.fingerprint !== studyFingerprint(definition)) {
      throw new ConfigError(`'${out}' holds another study (definition fingerprint ${before.fingerprint.slice(0, 12)}, this one ${studyFingerprint(definition).slice(0, 12)}). Use another --out, or the study file it was started with.`);
    }
    const s = before.shards[0];
    if (before.shards.length !== 1 || s?.index !== shard.index || s.count !== shard.count) {
      throw new ConfigError(`'${out}' holds shard ${before.shards.map((x) => `${x.index}/${x.count}`).join(', ')} of this study, not ${shard.index}/${shard.count}. Give each shard its own --out.`);
    }
    machines = [...before.machines];
  }
  const backend = await useBackend(options.backend, { log: options.quiet ? false : say, ...(options.threads ? { threads: options.threads } : {}) });
  machines.push({
    shard: `${shard.index}/${shard.count}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    backend: backend.backend,
    wasmKernels: backend.wasmKernels ?? null,
    wasmConv: backend.wasmConv ?? null,
    threads: options.threads ?? null,
    loadAtStart: loadavg()[0]!,
    startedAt: new Date().toISOString(),
    command: options.command,
  });
  const plan = describePlan(definition, out, shard);
  const previous = previousRecords(out, definition);
  const records = new Map<string, StudyRunRecord>();
  for (const p of plan) {
    const r = finishedRecord(p.run, p.dir, previous);
    records.set(p.run.id, r ?? { id: p.run.id, arm: p.run.arm, seed: p.run.seed, status: 'pending', metrics: {} });
  }
  const protocol = studyProtocol(definition);
  const save = async (): Promise<StudyResults> => {
    const results = buildStudyResults({ definition, shards: [shard], runs: plan.map((p) => records.get(p.run.id)!), protocol, machines });
    await writeFileAtomic(studyFile, `${JSON.stringify(results, null, 2)}\n`);
    await writeStudyReport(results, join(out, 'report.html'));
    return results;
  };
  let results = await save();
  const epochsOf = (arm: string) => armRunDefinition(definition, arm).epochs;
  // One unit per epoch and one per evaluation.
  const unitsOf = (p: (typeof plan)[number]) => epochsOf(p.run.arm) + 1;
  const total = plan.reduce((a, p) => a + unitsOf(p), 0);
  const already = plan.filter((p) => records.get(p.run.id)!.status === 'done').reduce((a, p) => a + unitsOf(p), 0);
  say(`lico study '${definition.name}', shard ${shard.index}/${shard.count}: ${plan.length} runs (${plan.length - results.runsDone} to do) in ${out}.`);
  const bar = options.quiet ? null : createProgressBar({ total, initial: already, label: 'study', unit: 'epoch', stream: progressStream(io), percentStep: 1, intervalMs: 60_000 });
  let position = already;
  for (const p of plan) {
    if (records.get(p.run.id)!.status === 'done') continue;
    if (signal?.aborted) break;
    const armDef = armRunDefinition(definition, p.run.arm);
    const resultsFile = join(p.dir, 'results.json');
    let trainSeconds = 0;
    const start = position;
    if (!existsSync(resultsFile)) {
      const resume = existsSync(join(p.dir, 'checkpoint'));
      if (!resume) rmSync(p.dir, { recursive: true, force: true }); // leftovers of a run killed before its first checkpoint
      else {
        const done = readJson<{ epoch?: number }>(join(p.dir, 'checkpoint', 'state.json'))?.epoch ?? 0;
        position = start + done;
        bar?.update(position, p.run.id);
      }
      const trained = await trainRun(
        {
          dataset: definition.dataset,
          ...armDef,
          evalSize: definition.evaluation.evalSize,
          seed: p.run.seed,
          backend: options.backend,
          backendChoice: backend,
          ...(options.threads ? { threads: options.threads } : {}),
          ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
          out: p.dir,
          resume,
          quiet: true,
          command: `${options.command} (run ${p.run.id})`,
          resumeHint: `${options.command}`,
          onEpochEnd: () => {
            position += 1;
            bar?.update(position, p.run.id);
          },
        },
        io,
        signal,
      ).catch((error: unknown) => {
        if (error instanceof InterruptedError) {
          throw new InterruptedError(`lico study: interrupted in run ${p.run.id}; its checkpoint is saved. Run the same command again to continue.`);
        }
        throw error;
      });
      trainSeconds = trained.seconds;
    }
    position = start + epochsOf(p.run.arm);
    bar?.update(position, `${p.run.id} (evaluating)`);
    const train = readJson<TrainResults>(resultsFile);
    if (!train) throw new ConfigError(`'${resultsFile}' is unreadable; delete '${p.dir}' to train that run again.`);
    const t0 = performance.now();
    const { evaluation } = await evaluateRun(
      {
        model: p.dir,
        dataset: definition.dataset,
        interpreters: definition.evaluation.interpreters,
        limit: definition.evaluation.evalSize,
        saliencyImages: definition.evaluation.saliencyImages,
        stepSize: definition.evaluation.stepSize,
        riseMasks: definition.evaluation.riseMasks,
        batchSize: 500,
        seed: p.run.seed,
        backend: options.backend,
        backendReady: true,
        quiet: true,
        knownAccuracy: { accuracy: train.final.accuracy, count: train.final.evalSize },
        ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      },
      io,
    );
    const record = recordOf(p.run, train, evaluation, { train: trainSeconds, eval: (performance.now() - t0) / 1000 });
    await writeFileAtomic(join(p.dir, 'run-record.json'), `${JSON.stringify(record, null, 2)}\n`);
    records.set(p.run.id, record);
    results = await save();
    position = start + unitsOf(p);
    bar?.update(position, `${p.run.id}: accuracy ${(100 * record.metrics.accuracy!).toFixed(2)} %`);
  }
  bar?.done();
  if (signal?.aborted && !results.complete && results.runsDone < plan.length) {
    throw new InterruptedError(`lico study: stopped with ${results.runsDone} of ${plan.length} runs done. Run the same command again to continue.`);
  }
  return results;
}
