// Runs an example's main.mjs the way a user would (node, against the built packages) for the
// examples' vitest tests, which then assert on what it printed.
import { spawnSync } from 'node:child_process';

/** Runs `node main.mjs ...args` in `dir`; throws with the output unless it exits 0. Returns stdout. */
export function runExample(dir, args = ['--tiny']) {
  const r = spawnSync(process.execPath, ['main.mjs', ...args], { cwd: dir, encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`node main.mjs ${args.join(' ')} exited with ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}

/** The numbers captured by `pattern` in `text` (throws naming the pattern when it is missing). */
export function numbersFrom(text, pattern) {
  const m = text.match(pattern);
  if (!m) throw new Error(`expected output matching ${pattern}, got:\n${text}`);
  return m.slice(1).map(Number);
}
