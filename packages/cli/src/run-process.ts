/**
 * Runs the CLI as a process: Ctrl-C asks the running command to stop at the next safe point (it
 * saves a checkpoint and exits with 130); a second Ctrl-C exits at once. Exits with the command's
 * code (explicitly: the threaded wasm backend's workers would otherwise keep Node alive).
 */
import { enableRelaxedSimd } from '@lico/backends';
import { runCli } from './run-cli';

/**
 * Runs `lico <argv>` in this process and exits with its code. The process is the CLI's own, so it
 * turns WebAssembly relaxed SIMD on (Node 20 has it behind a flag): the wasm kernels then run their
 * fused-multiply-add build unless `LICO_WASM_KERNELS=simd` asks for the plain one.
 */
export async function runCliProcess(argv: readonly string[]): Promise<never> {
  enableRelaxedSimd();
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
