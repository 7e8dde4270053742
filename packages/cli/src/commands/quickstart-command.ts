/**
 * The `lico quickstart` handler.
 */
import { LicoError } from '@lico/core';
import type { CommandHandler } from '../run-cli';

/** `lico quickstart`. */
export const quickstartCommand: CommandHandler = async () => {
  throw new LicoError('CONFIG', "'lico quickstart' is not available yet in this build.");
};
