#!/usr/bin/env node
// Benchmark runner: `npm run bench -- <name> [--json] [...]` builds the packages (nx-cached) and
// runs tools/bench/<name>.mjs. Each benchmark's last output line is one JSON object:
// {"bench","unit","ours","reference","ratio","referenceName"} with the reference measured in the
// same run on the same machine. Benchmarks are never part of the test suite.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.replace(/\.mjs$/, ''));
if (!name || name === '--help') {
  console.log(`usage: npm run bench -- <name> [--json]\nbenchmarks: ${available.join(', ')}`);
  process.exit(name ? 0 : 1);
}
if (!existsSync(path.join(here, `${name}.mjs`))) {
  console.error(`Unknown benchmark '${name}'. Valid benchmarks: ${available.map((b) => `'${b}'`).join(', ')}.`);
  process.exit(2);
}
const root = path.resolve(here, '../..');
if (!process.env.LICO_BENCH_NO_BUILD) {
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' } });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// Relaxed SIMD on (Node 20 has it behind a flag), as the lico CLI runs: lico's wasm kernels then use
// their fused-multiply-add build; LICO_WASM_KERNELS=simd measures the plain build (bench JSON: wasmKernels).
const run = spawnSync(process.execPath, ['--expose-gc', '--experimental-wasm-relaxed-simd', path.join(here, `${name}.mjs`), ...rest], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
