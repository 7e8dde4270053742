/**
 * The `lico train` handler.
 */
import type { ParsedOptions } from '../args/options';
import type { CommandHandler } from '../run-cli';
import { trainRun, type TrainRunOptions } from '../pipeline/train-run';
import type { MethodChoices } from '../pipeline/components';
import { optionalString, resolveThreads, shellQuote } from './common';

/** The fields of a training run that {@link TRAIN_RUN_OPTIONS} parse (one mapping for `lico train` and the arms of `lico study`). */
export type RunDefinition = Pick<
  TrainRunOptions,
  'backbone' | 'text' | 'mode' | 'labels' | 'validation' | 'validateEvery' | 'epochs' | 'batchSize' | 'lr' | 'alpha' | 'beta' | 'weightDecay' | 'ema' | 'augment' | 'context' | keyof MethodChoices
>;

/** Maps parsed run options (`--backbone`, `--mm-sign`, …) to a {@link RunDefinition}. */
export function runDefinitionOf(o: ParsedOptions): RunDefinition {
  return {
    backbone: String(o.backbone),
    text: String(o.text),
    mode: o.mode as 'baseline' | 'lico',
    labels: o.labels as number | 'all',
    validation: o.validation as number,
    validateEvery: o['validate-every'] as number,
    epochs: o.epochs as number,
    batchSize: o['batch-size'] as number,
    lr: o.lr as number,
    alpha: o.alpha as number,
    beta: o.beta as number,
    weightDecay: o['weight-decay'] as number,
    ema: (o.ema as number) > 0 ? (o.ema as number) : null,
    augment: String(o.augment),
    context: o.context as number,
    mmSign: o['mm-sign'] as NonNullable<MethodChoices['mmSign']>,
    temperature: o.temperature as NonNullable<MethodChoices['temperature']>,
    otGradient: o['ot-gradient'] as NonNullable<MethodChoices['otGradient']>,
    promptVariants: o['prompt-variants'] as NonNullable<MethodChoices['promptVariants']>,
  };
}

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
      ...runDefinitionOf(o),
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
