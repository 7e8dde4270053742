/**
 * `lico report`: reads run directories and writes one self-contained HTML page.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { checkOutputPath } from '../pipeline/output-path';
import { basename, join, resolve } from 'node:path';
import { NotFoundError, writeFileAtomic } from '@lico/core';
import { renderReport, type ReportRun } from '../report/render-report';
import { parseResultsFile, type EvaluationResults, type ExplanationsIndex, type TrainResults } from '../results/results-schema';

/** Reads what a run directory holds: `results.json`, `evaluation.json`, `explanations/`. */
export function readRunDirectory(dir: string, name = basename(resolve(dir))): ReportRun {
  if (!existsSync(dir)) throw new NotFoundError(`Run directory '${dir}' does not exist.`);
  const resultsFile = join(dir, 'results.json');
  const evaluationFile = join(dir, 'evaluation.json');
  const explanationsDir = join(dir, 'explanations');
  const explanationsFile = join(explanationsDir, 'explanations.json');
  const results = existsSync(resultsFile) ? parseResultsFile<TrainResults>(readFileSync(resultsFile, 'utf8'), resultsFile, 'lico.train-results/1') : undefined;
  const evaluation = existsSync(evaluationFile)
    ? parseResultsFile<EvaluationResults>(readFileSync(evaluationFile, 'utf8'), evaluationFile, 'lico.evaluation/1')
    : undefined;
  let explanations: ReportRun['explanations'];
  if (existsSync(explanationsFile)) {
    const index = parseResultsFile<ExplanationsIndex>(readFileSync(explanationsFile, 'utf8'), explanationsFile, 'lico.explanations/1');
    const files = new Map<string, Uint8Array>();
    const present = new Set(readdirSync(explanationsDir));
    for (const item of index.items) {
      for (const f of [item.input, ...Object.values(item.overlays)]) {
        // Only plain file names inside the directory are read (no paths from data).
        if (basename(f) === f && present.has(f)) files.set(f, new Uint8Array(readFileSync(join(explanationsDir, f))));
      }
    }
    explanations = { index, files };
  }
  if (!results && !evaluation && !explanations) {
    throw new NotFoundError(`Run directory '${dir}' holds none of results.json, evaluation.json, explanations/explanations.json.`);
  }
  return { name, ...(results ? { results } : {}), ...(evaluation ? { evaluation } : {}), ...(explanations ? { explanations } : {}) };
}

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** Run directories; their names in the report are the directory names unless `names` is given. */
  readonly runs: readonly string[];
  readonly names?: readonly string[];
  readonly title: string;
  readonly subtitle?: string;
  /** The HTML file to write. */
  readonly out: string;
}

/** Reads the runs and writes the report; returns the file's absolute path. */
export async function writeReport(options: WriteReportOptions): Promise<string> {
  checkOutputPath(options.out, 'file', '--out');
  const runs = options.runs.map((dir, i) => readRunDirectory(dir, options.names?.[i]));
  const html = renderReport({ title: options.title, runs, ...(options.subtitle ? { subtitle: options.subtitle } : {}) });
  const out = resolve(options.out);
  await writeFileAtomic(out, html);
  return out;
}
