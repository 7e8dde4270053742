/**
 * The main job on its embedded default: baseline and LICO on Fashion-MNIST with the word-vector
 * text encoder and a small WideResNet, both evaluated, one HTML report and one results.json.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { NotFoundError, writeFileAtomic } from '@lico/core';
import { useBackend } from '@lico/backends';
import type { CliIo } from '../run-cli';
import type { ModeSummary, QuickstartResults } from '../results/results-schema';
import { writeReport } from '../commands/report-command';
import { loadDataset } from './components';
import { evaluateRun } from './evaluate-run';
import { explainRun } from './explain-run';
import { trainRun } from './train-run';

/** Options of {@link quickstartRun}; every field has the quickstart's default. */
export interface QuickstartOptions {
  /** Output directory (default `lico-runs/quickstart`). */
  readonly out?: string;
  readonly backbone?: string;
  /** Labelled training images per mode (default 6000). */
  readonly labels?: number | 'all';
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  /** Test images for accuracy (default all 10 000). */
  readonly evalSize?: number | 'all';
  /** Test images for insertion/deletion (default 64). */
  readonly saliencyImages?: number;
  /** Pixels per insertion/deletion step (default 56, two image rows: 15 points per curve). */
  readonly stepSize?: number;
  readonly interpreters?: readonly string[];
  /** Images in the report's heatmap grid (default 8). */
  readonly explainImages?: number;
  readonly seed?: number;
  readonly backend?: string;
  readonly threads?: number;
  readonly dataDir?: string;
  /** Continue an interrupted quickstart. */
  readonly resume?: boolean;
  readonly quiet?: boolean;
  /** How a person re-runs it with --resume (for the Ctrl-C message). */
  readonly resumeHint?: string;
}

/** What {@link quickstartRun} returns. */
export interface QuickstartResult {
  readonly results: QuickstartResults;
  readonly reportFile: string;
  readonly resultsFile: string;
}

const DATA_HELP = [
  'The quickstart needs Fashion-MNIST and could neither find a copy nor download one. Do one of:',
  '  - on Debian/Ubuntu: apt-get install -y dataset-fashion-mnist   (files land in /usr/share/datasets/fashion-mnist)',
  '  - put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz',
  '    into a directory and pass --data-dir DIR (or set LICO_DATA_DIR to its parent, with the files in LICO_DATA_DIR/fashion-mnist)',
  '  - allow this machine to reach the official Fashion-MNIST download and run the quickstart again',
].join('\n');

/** Runs the quickstart end to end and prints where its report and results are. */
export async function quickstartRun(options: QuickstartOptions, io: CliIo, signal?: AbortSignal): Promise<QuickstartResult> {
  const t0 = performance.now();
  const out = resolve(options.out ?? 'lico-runs/quickstart');
  const quiet = options.quiet ?? false;
  const seed = options.seed ?? 0;
  const backendName = options.backend ?? 'auto';
  const interpreters = options.interpreters ?? ['gradCam', 'gradCamPlusPlus'];
  const say = (line: string) => {
    if (!quiet) io.stderr(`${line}\n`);
  };
  const modes = ['baseline', 'lico'] as const;
  if (!options.resume) {
    for (const mode of modes) rmSync(join(out, mode), { recursive: true, force: true });
  }
  const backendChoice = await useBackend(backendName, { log: quiet ? false : say, ...(options.threads ? { threads: options.threads } : {}) });
  try {
    await loadDataset('fashion-mnist', 'test', { ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}), download: true });
  } catch (error) {
    throw new NotFoundError(`${DATA_HELP}\n(${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  const common = {
    dataset: 'fashion-mnist',
    backbone: options.backbone ?? 'wrn-16-1',
    text: 'word-vectors',
    labels: options.labels ?? 6000,
    epochs: options.epochs ?? 2,
    batchSize: options.batchSize ?? 64,
    lr: options.lr ?? 0.03,
    alpha: 10,
    beta: 1,
    weightDecay: 5e-4,
    ema: null,
    evalSize: options.evalSize ?? 'all',
    seed,
    backend: backendName,
    download: true,
    augment: 'none',
    quiet,
    backendChoice,
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
  } as const;
  const summaries: Partial<Record<(typeof modes)[number], ModeSummary>> = {};
  for (const mode of modes) {
    const dir = join(out, mode);
    say(`\nlico quickstart: ${mode === 'baseline' ? 'baseline (cross-entropy only)' : 'LICO (cross-entropy + manifold matching + optimal transport)'} → ${dir}`);
    let trainSeconds = 0;
    let known: { accuracy: number; count: number } | undefined;
    if (!(options.resume && existsSync(join(dir, 'results.json')))) {
      const resume = Boolean(options.resume && existsSync(join(dir, 'checkpoint')));
      const trained = await trainRun(
        {
          ...common,
          mode,
          out: dir,
          resume,
          command: `lico quickstart (${mode})`,
          resumeHint: options.resumeHint ?? 'npm run quickstart -- --resume',
        },
        io,
        signal,
      );
      trainSeconds = trained.seconds;
      // lico train measured the test accuracy of exactly these weights; evaluate reuses it.
      known = { accuracy: trained.results.final.accuracy, count: trained.results.final.evalSize };
    } else say('lico quickstart: already trained, reusing it.');
    const { evaluation } = await evaluateRun(
      {
        model: dir,
        dataset: 'fashion-mnist',
        interpreters,
        limit: common.evalSize,
        saliencyImages: options.saliencyImages ?? 64,
        stepSize: options.stepSize ?? 56,
        batchSize: 500,
        seed,
        backend: backendName,
        backendReady: true,
        download: true,
        quiet,
        ...(known ? { knownAccuracy: known } : {}),
        ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      },
      io,
    );
    await explainRun(
      {
        model: dir,
        images: 'fashion-mnist',
        interpreters,
        count: options.explainImages ?? 8,
        seed,
        backend: backendName,
        backendReady: true,
        download: true,
        quiet,
        ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      },
      io,
    );
    summaries[mode] = {
      accuracy: evaluation.accuracy,
      saliency: Object.fromEntries(Object.entries(evaluation.saliency).map(([k, v]) => [k, { insertion: v.insertion, deletion: v.deletion }])),
      run: relative(out, dir),
      trainSeconds,
    };
  }
  const reportFile = await writeReport({
    runs: modes.map((m) => join(out, m)),
    names: [...modes],
    title: 'LICO quickstart: baseline vs LICO on Fashion-MNIST',
    subtitle: `${common.backbone}, word-vector text encoder, ${common.labels} labelled images, ${common.epochs} epoch(s) per mode, seed ${seed}.`,
    out: join(out, 'report.html'),
  });
  const results: QuickstartResults = {
    schema: 'lico.quickstart/1',
    baseline: summaries.baseline!,
    lico: summaries.lico!,
    config: { ...common, interpreters, saliencyImages: options.saliencyImages ?? 64, stepSize: options.stepSize ?? 56 },
    seconds: (performance.now() - t0) / 1000,
  };
  const resultsFile = join(out, 'results.json');
  await writeFileAtomic(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  io.stdout(
    [
      '',
      `LICO quickstart finished in ${(results.seconds / 60).toFixed(1)} min.`,
      `  baseline: test accuracy ${pct(results.baseline.accuracy)}`,
      `  lico:     test accuracy ${pct(results.lico.accuracy)}`,
      `Report:  ${reportFile}`,
      `Results: ${resultsFile}`,
      '',
    ].join('\n'),
  );
  return { results, reportFile, resultsFile };
}
