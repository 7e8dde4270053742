/**
 * Runs the CLI as a process: Ctrl-C asks the running command to stop at the next safe point (it
 * saves a checkpoint and exits with 130); a second Ctrl-C exits at once. Exits with the command's
 * code (explicitly: the threaded wasm backend's workers would otherwise keep Node alive).
 */
import { runCli } from './run-cli';

/** Runs `lico <argv>` in this process and exits with its code. */
export async function runCliProcess(argv: readonly string[]): Promise<never> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\nlico: stopping after the current step and saving a checkpoint (Ctrl-C again to quit at once)…\n');
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  const code = await runCli(argv, undefined, controller.signal);
  process.off('SIGINT', onSigint);
  process.exit(code);
}
