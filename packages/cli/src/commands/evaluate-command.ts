/**
 * The `lico evaluate` handler.
 */
import type { CommandHandler } from '../run-cli';
import { evaluateRun } from '../pipeline/evaluate-run';
import { optionalString, resolveThreads } from './common';

/** `lico evaluate`: options → {@link evaluateRun}. */
export const evaluateCommand: CommandHandler = async (o, { io }) => {
  const dataset = String(o.dataset);
  const dataDir = optionalString(o['data-dir']);
  const out = optionalString(o.out);
  const threads = resolveThreads(o.threads);
  const { evaluation, file } = await evaluateRun(
    {
      model: String(o.model),
      dataset,
      interpreters: o.interpreters as string[],
      limit: o.limit as number | 'all',
      saliencyImages: o['saliency-images'] as number,
      stepSize: o['step-size'] as number,
      batchSize: o['batch-size'] as number,
      seed: o.seed as number,
      ...(Array.isArray(o.metrics) ? { metrics: o.metrics as string[] } : {}),
      sensitivitySamples: o['sensitivity-samples'] as number,
      backend: String(o.backend),
      ...(threads !== undefined ? { threads } : {}),
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(out !== undefined ? { out } : {}),
      quiet: o.quiet === true,
    },
    io,
  );
  const summary = Object.fromEntries(Object.entries(evaluation.saliency).map(([k, v]) => [k, { insertion: v.insertion, deletion: v.deletion }]));
  io.stdout(`${JSON.stringify({ file, accuracy: evaluation.accuracy, saliency: summary, ...(evaluation.localisation ? { localisation: evaluation.localisation } : {}), ...(evaluation.metrics ? { metrics: evaluation.metrics } : {}) })}\n`);
};
