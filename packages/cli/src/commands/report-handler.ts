/**
 * The `lico report` handler.
 */
import type { CommandHandler } from '../run-cli';
import { writeReport } from './report-command';

/** `lico report --run DIR [--run DIR ...] --out FILE`. */
export const reportCommand: CommandHandler = async (options, { io }) => {
  const out = await writeReport({ runs: options.run as string[], title: String(options.title), out: String(options.out) });
  io.stdout(`Report written to ${out}\n`);
};
