/**
 * Helpers shared by the command handlers.
 */
import { availableParallelism } from 'node:os';
import type { ParsedOptions } from '../args/options';

/** The wasm thread count for `--threads` (`'auto'`: `LICO_WASM_THREADS`, else the cores, at most 8). */
export function resolveThreads(value: ParsedOptions[string]): number | undefined {
  if (typeof value === 'number') return value;
  if (process.env.LICO_WASM_THREADS) return undefined;
  return Math.max(1, Math.min(8, availableParallelism()));
}

/** A string option, or undefined. */
export function optionalString(value: ParsedOptions[string]): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Quotes a word for a shell command line when needed. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
