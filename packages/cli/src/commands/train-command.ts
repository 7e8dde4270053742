/**
 * The `lico train` handler.
 */
import { LicoError } from '@lico/core';
import type { CommandHandler } from '../run-cli';

/** `lico train`. */
export const trainCommand: CommandHandler = async () => {
  throw new LicoError('CONFIG', "'lico train' is not available yet in this build.");
};
