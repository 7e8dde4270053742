// Command-line parsing shared by the benchmarks: `--name value` numbers and `--flag` switches,
// and the default wasm thread count (LICO_WASM_THREADS, else the core count, at most 8).
import os from 'node:os';

/** Returns `{ arg(name, fallback), flag(name), threads }` for `argv` (default: this process's). */
export function benchArgs(argv = process.argv.slice(2)) {
  const arg = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const flag = (name) => argv.includes(`--${name}`);
  const threads = arg('threads', Number(process.env.LICO_WASM_THREADS) || Math.min(8, os.cpus().length));
  return { argv, arg, flag, threads };
}
