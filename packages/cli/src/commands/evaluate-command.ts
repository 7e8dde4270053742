/**
 * The `lico evaluate` handler.
 */
import { LicoError } from '@lico/core';
import type { CommandHandler } from '../run-cli';

/** `lico evaluate`. */
export const evaluateCommand: CommandHandler = async () => {
  throw new LicoError('CONFIG', "'lico evaluate' is not available yet in this build.");
};
