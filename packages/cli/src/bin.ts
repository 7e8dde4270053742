#!/usr/bin/env node
/**
 * The `lico` binary. Ctrl-C asks the running command to stop at the next safe point (it saves a
 * checkpoint and exits with 130); a second Ctrl-C exits at once.
 */
import { runCli } from './run-cli';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts === 1) {
    process.stderr.write('\nlico: stopping at the next step and saving a checkpoint (Ctrl-C again to quit at once)…\n');
    controller.abort();
  } else process.exit(130);
});
const code = await runCli(process.argv.slice(2), undefined, controller.signal);
process.exitCode = code;
