/**
 * The `lico train` handler.
 */
import type { CommandHandler } from '../run-cli';
import { trainRun } from '../pipeline/train-run';
import { optionalString, resolveThreads, shellQuote } from './common';

/** `lico train`: options → {@link trainRun}. */
export const trainCommand: CommandHandler = async (o, { io, argv, signal }) => {
  const words = ['lico', ...argv].map(shellQuote);
  const command = words.join(' ');
  const resumeHint = argv.includes('--resume') ? command : `${command} --resume`;
  const dataDir = optionalString(o['data-dir']);
  const threads = resolveThreads(o.threads);
  const { results } = await trainRun(
    {
      dataset: String(o.dataset),
      backbone: String(o.backbone),
      text: String(o.text),
      mode: o.mode as 'baseline' | 'lico',
      labels: o.labels as number | 'all',
      epochs: o.epochs as number,
      batchSize: o['batch-size'] as number,
      lr: o.lr as number,
      alpha: o.alpha as number,
      beta: o.beta as number,
      weightDecay: o['weight-decay'] as number,
      ema: (o.ema as number) > 0 ? (o.ema as number) : null,
      evalSize: o['eval-size'] as number | 'all',
      seed: o.seed as number,
      backend: String(o.backend),
      ...(threads !== undefined ? { threads } : {}),
      ...(dataDir !== undefined ? { dataDir } : {}),
      out: String(o.out),
      resume: o.resume === true,
      quiet: o.quiet === true,
      command,
      resumeHint,
    },
    io,
    signal,
  );
  io.stdout(`${JSON.stringify({ out: String(o.out), final: results.final })}\n`);
};
