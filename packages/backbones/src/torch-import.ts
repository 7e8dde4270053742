import * as tf from '@tensorflow/tfjs-core';
import { decodeSafetensors, fetchFound, FileFormatError, formatShape, parseSafetensorsBytes, readSafetensors, readSafetensorsHeader, ShapeError, type FetchWeightsOptions } from '@lico/core';
import type { BackboneClassifier } from './staged-classifier';

const PICKLE_EXTENSIONS = /\.(pt|pth|ckpt|pkl|pickle|bin|tar)$/i;
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** The PyTorch shape of a variable stored in tfjs layout. */
function torchShape(shape: readonly number[], layout: 'conv' | 'linear' | 'plain'): number[] {
  if (layout === 'conv') return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
  if (layout === 'linear') return [shape[1]!, shape[0]!];
  return [...shape];
}

/**
 * The PyTorch state-dict key → shape map a model's weights correspond to (without the
 * `num_batches_tracked` counters), e.g. to build or check a `.safetensors` file.
 */
export function torchStateDictShapes(model: BackboneClassifier): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  const vars = model.namedVariables();
  for (const [name, layout] of Object.entries(model.torchLayouts)) out[name] = torchShape(vars[name]!.shape, layout);
  return out;
}

function refusePickle(file: string): void {
  if (PICKLE_EXTENSIONS.test(file)) {
    throw new FileFormatError(file, 'pickle-based PyTorch checkpoints are never read (they can run code); convert with safetensors.torch.save_file(model.state_dict(), "weights.safetensors")');
  }
}

/**
 * Loads a PyTorch state dict saved as `.safetensors` into `model` (a ResNet, PreActResNet or
 * WideResNet from this package): keys are the PyTorch ones (torchvision names for the ResNet
 * family, FixMatch `wrn.py` names for the WideResNet); convolution weights `[O,I,kh,kw]` become
 * `[kh,kw,I,O]`, linear weights `[O,I]` become `[I,O]`. Batch-norm `num_batches_tracked` counters
 * are accepted and ignored. Only the safetensors format is read (never pickle).
 *
 * `source` is a file path (Node) or the file's bytes (e.g. fetched in a browser; see
 * {@link fetchTorchWeights}); `options.name` names bytes in errors. The whole header is validated first (by `@lico/core`), then every key
 * and shape is checked against the model before any tensor data is read: a missing or unexpected
 * key, a shape or a non-float dtype that disagrees is a {@link FileFormatError} / {@link ShapeError}
 * naming the key.
 */
export async function loadTorchWeights(model: BackboneClassifier, source: string | Uint8Array, options: { readonly name?: string } = {}): Promise<void> {
  const file = options.name ?? (typeof source === 'string' ? source : '<safetensors bytes>');
  refusePickle(file);
  const header = typeof source === 'string' ? await readSafetensorsHeader(source) : parseSafetensorsBytes(file, source);
  const expected = torchStateDictShapes(model);
  // Own keys only: a key named 'constructor' or 'toString' is not a weight of the model.
  const isExpected = (key: string) => Object.prototype.hasOwnProperty.call(expected, key);
  for (const [key, shape] of Object.entries(expected)) {
    const entry = header.entries.get(key);
    if (!entry) throw new FileFormatError(file, `missing tensor '${key}' (expected shape ${formatShape(shape)})`);
    if (!FLOAT_DTYPES.has(entry.dtype)) throw new FileFormatError(file, `tensor '${key}' has dtype ${entry.dtype}, expected a floating dtype (F32, F16, BF16, F64)`);
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${file}: tensor '${key}' has shape ${formatShape(entry.shape)}, the model expects ${formatShape(shape)} (PyTorch layout).`);
    }
  }
  for (const key of header.entries.keys()) {
    if (isExpected(key)) continue;
    const bnPrefix = key.endsWith('.num_batches_tracked') ? key.slice(0, -'num_batches_tracked'.length) : null;
    if (bnPrefix !== null && isExpected(`${bnPrefix}running_mean`)) continue;
    throw new FileFormatError(file, `unexpected tensor '${key}' (not a weight of ${model.name})`);
  }
  const loaded = typeof source === 'string' ? await readSafetensors(source, { select: isExpected }) : await decodeSafetensors(file, source, { select: isExpected });
  // Every value finite before anything is assigned (NaN/Inf weights are refused, as by the other loaders).
  for (const [key, t] of loaded) {
    const data = t.data as ArrayLike<number>;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new FileFormatError(file, `tensor '${key}' holds ${data[i]} at flat index ${i}; refused (the weights come from a run that diverged or the file is damaged)`);
    }
  }
  const vars = model.namedVariables();
  tf.tidy(() => {
    for (const [key, layout] of Object.entries(model.torchLayouts)) {
      const t = loaded.get(key)!;
      const raw = tf.tensor(t.data as Float32Array, [...t.shape], 'float32');
      const value = layout === 'conv' ? tf.transpose(raw, [2, 3, 1, 0]) : layout === 'linear' ? tf.transpose(raw) : raw;
      vars[key]!.assign(value);
    }
  });
}

/**
 * {@link loadTorchWeights} over HTTP: fetches the `.safetensors` file at `url` (a page's own
 * origin, or Node ≥ 18) and loads it into `model` with the same checks.
 *
 * ```ts
 * const resnet = createResNet({ depth: 18, numClasses: 10, initialize: false });
 * await fetchTorchWeights(resnet, new URL('weights/resnet18.safetensors', location.href).href);
 * ```
 */
export async function fetchTorchWeights(model: BackboneClassifier, url: string, options: FetchWeightsOptions = {}): Promise<void> {
  refusePickle(new URL(url, 'http://localhost/').pathname);
  const response = await fetchFound(url, options);
  await loadTorchWeights(model, new Uint8Array(await response.arrayBuffer()), { name: url });
}
