import { fs, path } from '#node-builtins';
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, FileFormatError, NotFoundError } from '../errors';
import { formatShape, nonFiniteNames } from '../assert';
import type { NamedVariables } from '../spec';
import { writeDirAtomic } from './atomic-write';

/**
 * Saving and loading named variables in the TensorFlow.js format: a `model.json` whose
 * `weightsManifest` lists the weights, beside one binary weight file. Directories are replaced
 * atomically.
 */

/** The `model.json` lico writes. */
export interface WeightsModelJson {
  readonly format: 'lico-weights';
  readonly generatedBy: string;
  /** Free JSON the owner stores with the weights (architecture config, step, …). */
  readonly userDefinedMetadata?: Readonly<Record<string, unknown>>;
  readonly weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Writes every variable of `variables` to `dir/model.json` + `dir/weights.bin` (atomically). */
export async function saveVariables(dir: string, variables: NamedVariables, metadata?: Record<string, unknown>): Promise<void> {
  const tensors: tf.NamedTensorMap = {};
  for (const [name, v] of Object.entries(variables)) tensors[name] = v;
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const modelJson: WeightsModelJson = {
    format: 'lico-weights',
    generatedBy: '@lico/core',
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(path.join(tmp, 'weights.bin'), new Uint8Array(data as ArrayBuffer));
    await fs.writeFile(path.join(tmp, 'model.json'), JSON.stringify(modelJson, null, 1));
  });
}

/** Reads one file of a weights directory by its path relative to `model.json`. */
export type WeightFileReader = (relativePath: string) => Promise<Uint8Array>;

/**
 * Decodes a `model.json` text and the weight files it lists (read through `readFile`) into fresh
 * tensors (caller disposes). `source` names the model.json in errors. Platform-free: the Node
 * reader is {@link readWeights}, the browser's {@link fetchWeights}.
 */
export async function decodeWeightFiles(source: string, modelJsonText: string, readFile: WeightFileReader): Promise<{ tensors: tf.NamedTensorMap; metadata: Record<string, unknown> }> {
  let json: WeightsModelJson;
  try {
    json = JSON.parse(modelJsonText) as WeightsModelJson;
  } catch (error) {
    throw new FileFormatError(source, `not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new FileFormatError(source, 'has no weightsManifest');
  const tensors: tf.NamedTensorMap = {};
  for (const group of json.weightsManifest) {
    const buffers: Uint8Array[] = [];
    for (const p of group.paths) {
      if (p.includes('..') || p.startsWith('/') || p.startsWith('\\') || /^[a-zA-Z]:|^[a-z][a-z0-9+.-]*:/i.test(p)) {
        throw new FileFormatError(source, `weight path '${p}' leaves the model directory`);
      }
      try {
        buffers.push(await readFile(p));
      } catch (error) {
        throw new FileFormatError(source, `its weight file '${p}' cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the directory is incomplete`);
      }
    }
    const total = buffers.reduce((a, b) => a + b.byteLength, 0);
    const expected = group.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : 1), 0);
    if (total !== expected) {
      throw new FileFormatError(source, `weight files hold ${total} bytes but the manifest describes ${expected} (truncated or mismatched)`);
    }
    const joined = new Uint8Array(total);
    let off = 0;
    for (const b of buffers) {
      joined.set(b, off);
      off += b.byteLength;
    }
    Object.assign(tensors, tf.io.decodeWeights(joined.buffer, group.weights));
  }
  return { tensors, metadata: (json.userDefinedMetadata ?? {}) as Record<string, unknown> };
}

/** Reads `dir/model.json` and its weight files into a map of fresh tensors (caller disposes). Node only. */
export async function readWeights(dir: string): Promise<{ tensors: tf.NamedTensorMap; metadata: Record<string, unknown> }> {
  const jsonPath = path.join(dir, 'model.json');
  let raw: string;
  try {
    raw = await fs.readFile(jsonPath, 'utf-8');
  } catch {
    throw new NotFoundError(`No model.json in '${dir}'.`);
  }
  return decodeWeightFiles(jsonPath, raw, (p) => fs.readFile(path.join(dir, p)));
}

/** Options of {@link fetchWeights}. */
export interface FetchWeightsOptions {
  /** The fetch to use (default: the global `fetch`). */
  readonly fetch?: (url: string) => Promise<{ ok: boolean; status: number; text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> }>;
}

/**
 * Fetches `url` with `options.fetch` (default: the global `fetch`); a network error or a status
 * other than OK is a {@link NotFoundError} naming the URL.
 */
export async function fetchFound(url: string, options: FetchWeightsOptions = {}): Promise<Awaited<ReturnType<NonNullable<FetchWeightsOptions['fetch']>>>> {
  const get = options.fetch ?? ((u: string) => fetch(u));
  let response;
  try {
    response = await get(url);
  } catch (error) {
    throw new NotFoundError(`Cannot fetch ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new NotFoundError(`Cannot fetch ${url}: HTTP ${response.status}.`);
  return response;
}

/**
 * Fetches `url/model.json` (a directory written by {@link saveVariables}, served over HTTP) and its
 * weight files into fresh tensors (caller disposes). Works in browsers and in Node ≥ 18.
 */
export async function fetchWeights(url: string, options: FetchWeightsOptions = {}): Promise<{ tensors: tf.NamedTensorMap; metadata: Record<string, unknown> }> {
  const get = options.fetch ?? ((u: string) => fetch(u));
  const base = url.endsWith('/') ? url : `${url}/`;
  const jsonUrl = `${base}model.json`;
  const response = await fetchFound(jsonUrl, options);
  return decodeWeightFiles(jsonUrl, await response.text(), async (p) => {
    const r = await get(`${base}${p}`);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  });
}

/**
 * Loads `dir` into existing variables: every variable must be present with the same shape, and no
 * extra weight may be in the file. Returns the stored metadata.
 */
export async function loadVariables(dir: string, variables: NamedVariables): Promise<Record<string, unknown>> {
  const { tensors, metadata } = await readWeights(dir);
  try {
    assignNamed(variables, tensors, path.join(dir, 'model.json'));
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return metadata;
}

/** Assigns `tensors` to `variables` by name, checking that the names and shapes agree exactly. */
export function assignNamed(variables: NamedVariables, tensors: tf.NamedTensorMap, source: string): void {
  const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (const [name, v] of Object.entries(variables)) {
    const t = own(tensors, name) ? tensors[name] : undefined;
    if (!t) throw new FileFormatError(source, `missing weight '${name}'`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new ShapeError(`${source}: weight '${name}' has shape ${formatShape(t.shape)}, the model expects ${formatShape(v.shape)}.`);
    }
  }
  for (const name of Object.keys(tensors)) {
    if (!own(variables, name)) throw new FileFormatError(source, `unexpected weight '${name}'`);
  }
  const bad = nonFiniteNames(tensors);
  if (bad.length > 0) {
    throw new FileFormatError(source, `weight '${bad[0]}' holds NaN or Infinity${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}; the file comes from a run that diverged or is damaged`);
  }
  for (const [name, v] of Object.entries(variables)) v.assign(tensors[name]!.dtype === v.dtype ? tensors[name]! : tf.cast(tensors[name]!, v.dtype));
}
