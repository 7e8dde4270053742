/**
 * The `lico quickstart` handler.
 */
import type { CommandHandler } from '../run-cli';
import { quickstartRun } from '../pipeline/quickstart-run';
import { optionalString, resolveThreads } from './common';

/** `lico quickstart`: options → {@link quickstartRun}. */
export const quickstartCommand: CommandHandler = async (o, { io, signal }) => {
  const dataDir = optionalString(o['data-dir']);
  const threads = resolveThreads(o.threads);
  await quickstartRun(
    {
      out: String(o.out),
      backbone: String(o.backbone),
      labels: o.labels as number | 'all',
      epochs: o.epochs as number,
      batchSize: o['batch-size'] as number,
      evalSize: o['eval-size'] as number | 'all',
      saliencyImages: o['saliency-images'] as number,
      stepSize: o['step-size'] as number,
      interpreters: o.interpreters as string[],
      explainImages: o['explain-images'] as number,
      seed: o.seed as number,
      backend: String(o.backend),
      ...(threads !== undefined ? { threads } : {}),
      ...(dataDir !== undefined ? { dataDir } : {}),
      resume: o.resume === true,
      quiet: o.quiet === true,
      resumeHint: process.env.LICO_QUICKSTART_RESUME_HINT ?? 'lico quickstart --resume',
    },
    io,
    signal,
  );
};
