/**
 * The `lico explain` handler.
 */
import type { CommandHandler } from '../run-cli';
import { explainRun } from '../pipeline/explain-run';
import { optionalString, resolveThreads } from './common';

/** `lico explain`: options → {@link explainRun}. */
export const explainCommand: CommandHandler = async (o, { io }) => {
  const dataDir = optionalString(o['data-dir']);
  const out = optionalString(o.out);
  const threads = resolveThreads(o.threads);
  const { dir, index } = await explainRun(
    {
      model: String(o.model),
      images: String(o.images),
      interpreters: o.interpreters as string[],
      count: o.count as number,
      seed: o.seed as number,
      backend: String(o.backend),
      ...(threads !== undefined ? { threads } : {}),
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(out !== undefined ? { out } : {}),
      quiet: o.quiet === true,
    },
    io,
  );
  io.stdout(`${JSON.stringify({ dir, images: index.items.length, interpreters: index.interpreters })}\n`);
};
