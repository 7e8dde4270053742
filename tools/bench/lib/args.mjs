// Command-line parsing shared by the benchmarks: `--name value` numbers and strings, `--flag`
// switches, and the default wasm thread count (LICO_WASM_THREADS, else the core count, at most 8).
import os from 'node:os';

/** Returns `{ arg(name, fallback), text(name, fallback), flag(name), threads }` for `argv` (default: this process's). */
export function benchArgs(argv = process.argv.slice(2)) {
  const raw = (name) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const arg = (name, fallback) => {
    const v = raw(name);
    return v === undefined ? fallback : Number(v);
  };
  const text = (name, fallback) => raw(name) ?? fallback;
  const flag = (name) => argv.includes(`--${name}`);
  const threads = arg('threads', Number(process.env.LICO_WASM_THREADS) || Math.min(8, os.cpus().length));
  return { argv, arg, text, flag, threads };
}
