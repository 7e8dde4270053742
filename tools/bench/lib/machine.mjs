// The machine a benchmark ran on, recorded in every bench JSON (`machine`): CPU model (from
// /proc/cpuinfo), cores, Node, the load average when the benchmark started and when it ended.
// Ratios are only meaningful on a quiet machine (load < 1 before starting): `machine()` warns on
// stderr otherwise, and the JSON says so (`quietAtStart`). `referenceMalloc`: how the PyTorch
// references' allocator was set (`--reference-malloc tuned|default`, see referenceEnv).
import { readFileSync } from 'node:fs';
import os from 'node:os';

const round1 = (v) => Math.round(v * 100) / 100;
const loadAtStart = os.loadavg().map(round1);

/** The CPU model name of /proc/cpuinfo (else Node's `os.cpus()[0].model`). */
export function cpuModel(cpuinfo = readCpuinfo()) {
  const m = /^model name\s*:\s*(.+)$/m.exec(cpuinfo ?? '');
  return m ? m[1].trim() : (os.cpus()[0]?.model ?? 'unknown');
}

/** The CPU flags of /proc/cpuinfo that matter to the wasm kernels (FMA, AVX2, AVX-512F). */
export function cpuFeatures(cpuinfo = readCpuinfo()) {
  const m = /^flags\s*:\s*(.+)$/m.exec(cpuinfo ?? '');
  const flags = new Set(m ? m[1].trim().split(/\s+/) : []);
  return ['fma', 'avx2', 'avx512f'].filter((f) => flags.has(f));
}

function readCpuinfo() {
  try {
    return readFileSync('/proc/cpuinfo', 'utf-8');
  } catch {
    return null;
  }
}

let warned = false;

/** The `machine` record of a bench JSON; warns once on stderr when the load at start was ≥ 1. */
export function machine() {
  const quietAtStart = loadAtStart[0] < 1;
  if (!quietAtStart && !warned) {
    warned = true;
    process.stderr.write(`bench: the 1-minute load average was ${loadAtStart[0]} at the start (not < 1): ratios measured now are not a quiet-machine figure.\n`);
  }
  return {
    cpu: cpuModel(),
    cpuFeatures: cpuFeatures(),
    cores: os.cpus().length,
    node: process.version,
    loadAtStart,
    loadAtEnd: os.loadavg().map(round1),
    quietAtStart,
    referenceMalloc,
  };
}

/** The `--reference-malloc` values: how glibc's allocator is set in a PyTorch reference process. */
export const REFERENCE_MALLOC_MODES = ['tuned', 'default'];

/** The `--reference-malloc` value of `argv` (default `tuned`); an unknown one throws and lists the valid ones. */
export function referenceMallocMode(argv = process.argv.slice(2)) {
  const i = argv.indexOf('--reference-malloc');
  const mode = i >= 0 ? argv[i + 1] : 'tuned';
  if (!REFERENCE_MALLOC_MODES.includes(mode)) throw new Error(`--reference-malloc: unknown value '${mode}'; valid: ${REFERENCE_MALLOC_MODES.join(', ')}`);
  return mode;
}

// Checked when a benchmark starts (an unknown value fails before any work) and recorded in `machine`.
const referenceMalloc = referenceMallocMode();

/**
 * The environment of a PyTorch reference process (tools/bench/*-reference.py). glibc serves a
 * large allocation by mmap and gives a freed heap top back to the OS, so a PyTorch CPU loop
 * faults its activations' pages in again on every step; on the 2-core host the train-step
 * reference ran 25–30 % faster, and a saliency row up to 40 %, with both thresholds raised.
 * `tuned` (the default: the reference at its best, so a ratio cannot flatter our side) raises the
 * mmap and trim thresholds to 1 GiB; `default` keeps glibc's own (what a plain `python3` gets).
 * The reference records the values it ran with (`env.malloc`).
 */
export function referenceEnv(mode = referenceMalloc) {
  const env = { ...process.env };
  delete env.MALLOC_MMAP_THRESHOLD_;
  delete env.MALLOC_TRIM_THRESHOLD_;
  if (mode === 'tuned') {
    env.MALLOC_MMAP_THRESHOLD_ = String(2 ** 30);
    env.MALLOC_TRIM_THRESHOLD_ = String(2 ** 30);
  }
  return env;
}

/**
 * Parses the last stdout line of a PyTorch reference (tools/bench/*-reference.py) as JSON and
 * returns it; throws with the reference's stderr when it failed (status 3: it refused the netlib
 * reference BLAS, see tools/bench/lib/torch_env.py).
 */
export function referenceResult(spawned, name) {
  if (spawned.status !== 0) {
    const why = spawned.status === 3 ? ' (it refuses the netlib reference BLAS; see the message above)' : '';
    throw new Error(`${name} failed with status ${spawned.status}${why}${spawned.stderr ? `:\n${spawned.stderr}` : ''}`);
  }
  const lines = String(spawned.stdout).trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}
