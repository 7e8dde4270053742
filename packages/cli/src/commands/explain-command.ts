/**
 * The `lico explain` handler.
 */
import { LicoError } from '@lico/core';
import type { CommandHandler } from '../run-cli';

/** `lico explain`. */
export const explainCommand: CommandHandler = async () => {
  throw new LicoError('CONFIG', "'lico explain' is not available yet in this build.");
};
