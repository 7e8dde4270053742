import * as tf from '@tensorflow/tfjs-core';
import '@lico/core';
import { encodeSafetensors, FileFormatError, saveVariables, ShapeError, UnknownNameError, writeSafetensors } from '@lico/core';
import { expectClose, formulaStateDict, useCpuBackend } from '@lico/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFromConfig, createWideResNet, fetchClassifier, fetchTorchWeights, loadClassifier, loadTorchWeights, saveClassifier, torchStateDictShapes } from './index';

let dir: string;
beforeAll(async () => {
  await useCpuBackend();
  dir = mkdtempSync(path.join(tmpdir(), 'lico-bb-io-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = () => createWideResNet({ preset: 'wrn-10-1', numClasses: 3, inputChannels: 1, seed: 9 });
const x = () => tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;

/** A fetch that serves `files` by URL (404 otherwise). */
function fakeFetch(files: Record<string, Uint8Array>) {
  return async (url: string) => {
    const body = files[url];
    return { ok: body !== undefined, status: body ? 200 : 404, text: async () => '', arrayBuffer: async () => (body ? body.slice().buffer : new ArrayBuffer(0)) };
  };
}

/** A raw safetensors file from a header object and a data size. */
function rawFile(header: Record<string, unknown>, dataBytes: number, headerLength?: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf-8');
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  return out;
}

describe('saveClassifier / loadClassifier (tfjs format)', () => {
  test('round trip restores architecture, weights and moving statistics', async () => {
    const m = small();
    m.forward(x(), { training: true }); // moves the running statistics away from 0/1
    const before = m.forward(x(), { training: false }).logits.arraySync();
    await saveClassifier(m, path.join(dir, 'wrn'), { step: 7 });
    const json = JSON.parse(readFileSync(path.join(dir, 'wrn', 'model.json'), 'utf-8'));
    expect(json.userDefinedMetadata.classifier).toEqual(m.config);
    expect(json.userDefinedMetadata.step).toBe(7);
    const loaded = await loadClassifier(path.join(dir, 'wrn'));
    expect(loaded.name).toBe('wrn-10-1');
    expect(loaded.config).toEqual(m.config);
    expectClose(loaded.forward(x(), { training: false }).logits, before, { atol: 1e-6, rtol: 1e-6 });
    expectClose(loaded.namedVariables()['block1.layer.0.bn1.running_var']!, m.namedVariables()['block1.layer.0.bn1.running_var']!, { atol: 0, rtol: 0 });
    m.dispose();
    loaded.dispose();
  });

  test("loads a trainer export (lico train's model/: config in userDefinedMetadata.config); fetchClassifier reads the same over HTTP", async () => {
    const m = small();
    const before = m.forward(x(), { training: false }).logits.arraySync();
    await saveVariables(path.join(dir, 'export'), m.namedVariables(), { name: m.name, config: m.config, ema: false });
    const loaded = await loadClassifier(path.join(dir, 'export'));
    expectClose(loaded.forward(x(), { training: false }).logits, before, { atol: 0, rtol: 0 });
    const files: Record<string, Uint8Array> = {
      'http://x/m/model.json': readFileSync(path.join(dir, 'export', 'model.json')),
      'http://x/m/weights.bin': readFileSync(path.join(dir, 'export', 'weights.bin')),
    };
    const fetched: string[] = [];
    const fake = async (url: string) => {
      fetched.push(url);
      const body = files[url];
      return { ok: !!body, status: body ? 200 : 404, text: async () => new TextDecoder().decode(body), arrayBuffer: async () => body!.slice().buffer };
    };
    const overHttp = await fetchClassifier('http://x/m', { fetch: fake });
    expect(fetched).toEqual(['http://x/m/model.json', 'http://x/m/weights.bin']);
    expectClose(overHttp.forward(x(), { training: false }).logits, before, { atol: 0, rtol: 0 });
    await expect(fetchClassifier('http://x/missing/', { fetch: fake })).rejects.toThrow(/Cannot fetch http:\/\/x\/missing\/model\.json: HTTP 404/);
    m.dispose();
    loaded.dispose();
    overHttp.dispose();
  });

  test('refuses a directory without the architecture, an unknown architecture, or mismatched weights', async () => {
    const m = small();
    await saveClassifier(m, path.join(dir, 'bad'));
    const file = path.join(dir, 'bad', 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf-8'));
    writeFileSync(file, JSON.stringify({ ...json, userDefinedMetadata: {} }));
    await expect(loadClassifier(path.join(dir, 'bad'))).rejects.toThrow(/architecture config/);
    writeFileSync(file, JSON.stringify({ ...json, userDefinedMetadata: { classifier: { ...m.config, architecture: 'vgg' } } }));
    await expect(loadClassifier(path.join(dir, 'bad'))).rejects.toThrow(UnknownNameError);
    writeFileSync(file, JSON.stringify({ ...json, userDefinedMetadata: { classifier: { ...m.config, widen: 2 } } }));
    await expect(loadClassifier(path.join(dir, 'bad'))).rejects.toThrow(/block1\.layer\.0\.conv1\.weight/);
    expect(() => createFromConfig({ ...m.config, numClasses: 'ten' })).toThrow(/numClasses/);
    m.dispose();
  });
});

describe('loadTorchWeights: untrusted files', () => {
  const shapes = () => {
    const m = small();
    const s = torchStateDictShapes(m);
    m.dispose();
    return s;
  };

  test('accepts num_batches_tracked counters and F16 data', async () => {
    const sd: Record<string, { dtype: 'F32' | 'F16' | 'I32'; shape: readonly number[]; data: ArrayLike<number> }> = { ...formulaStateDict(shapes()) };
    sd['bn1.num_batches_tracked'] = { dtype: 'I32', shape: [], data: [5] };
    sd['fc.weight'] = { ...sd['fc.weight']!, dtype: 'F16' };
    const file = path.join(dir, 'ok.safetensors');
    await writeSafetensors(file, sd);
    const m = small();
    await loadTorchWeights(m, file);
    // The same file fetched over HTTP gives the same variables (browser path).
    const fetched = small();
    await fetchTorchWeights(fetched, 'http://x/ok.safetensors', { fetch: fakeFetch({ 'http://x/ok.safetensors': readFileSync(file) }) });
    for (const [k, v] of Object.entries(m.namedVariables())) expect(Array.from(fetched.namedVariables()[k]!.dataSync()), k).toEqual(Array.from(v.dataSync()));
    await expect(fetchTorchWeights(fetched, 'http://x/none.safetensors', { fetch: fakeFetch({}) })).rejects.toThrow(/Cannot fetch http:\/\/x\/none\.safetensors: HTTP 404/);
    fetched.dispose();
    // fc.weight [3,64] in PyTorch layout arrives transposed, rounded to half precision.
    const w = m.namedVariables()['fc.weight']!;
    expect(w.shape).toEqual([64, 3]);
    const torchW = sd['fc.weight']!.data;
    expectClose(tf.transpose(w), Array.from(torchW), { atol: 1e-3, rtol: 1e-3 });
    expectClose(m.namedVariables()['bn1.running_var']!, Array.from(sd['bn1.running_var']!.data), { atol: 0, rtol: 0 });
    m.dispose();
  });

  const refuse = async (name: string, bytes: Uint8Array, pattern: RegExp, type: new (...a: never[]) => Error = FileFormatError) => {
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    const m = small();
    const before = m.namedVariables()['conv1.weight']!.dataSync().slice();
    await expect(loadTorchWeights(m, file)).rejects.toThrow(type);
    await expect(loadTorchWeights(m, file)).rejects.toThrow(pattern);
    // The same bytes in memory, and fetched, are refused the same way.
    await expect(loadTorchWeights(m, bytes, { name })).rejects.toThrow(pattern);
    await expect(fetchTorchWeights(m, `http://x/${name}`, { fetch: fakeFetch({ [`http://x/${name}`]: bytes }) })).rejects.toThrow(pattern);
    // Nothing was assigned.
    expect(Array.from(m.namedVariables()['conv1.weight']!.dataSync())).toEqual(Array.from(before));
    m.dispose();
  };

  test('header length beyond the file', async () => {
    await refuse('len.safetensors', rawFile({}, 0, 1e12), /exceeds the file size/);
  });
  test('offsets out of range, overlapping, or disagreeing with dtype and shape', async () => {
    await refuse('range.safetensors', rawFile({ 'fc.bias': { dtype: 'F32', shape: [3], data_offsets: [0, 800] } }, 12), /fc\.bias.*beyond the data section/);
    await refuse(
      'overlap.safetensors',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
      /'b'.*overlap/,
    );
    await refuse('size.safetensors', rawFile({ 'fc.bias': { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /fc\.bias.*need 12 bytes/);
    await refuse('dtype.safetensors', rawFile({ 'fc.bias': { dtype: 'X9', shape: [3], data_offsets: [0, 12] } }, 12), /fc\.bias.*unsupported dtype/);
  });
  test('missing key, unexpected key, wrong shape, integer dtype: named', async () => {
    const full = formulaStateDict(shapes());
    const { ['block2.layer.0.conv2.bias']: _dropped, ...missing } = full;
    await refuse('missing.safetensors', encodeSafetensors(missing), /missing tensor 'block2\.layer\.0\.conv2\.bias'/);
    await refuse('extra.safetensors', encodeSafetensors({ ...full, 'head.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), /unexpected tensor 'head\.weight'/);
    await refuse('shape.safetensors', encodeSafetensors({ ...full, 'conv1.weight': { dtype: 'F32', shape: [16, 3, 3, 3], data: new Float32Array(432) } }), /'conv1\.weight' has shape \[16,3,3,3\].*\[16,1,3,3\]/, ShapeError);
    await refuse('int.safetensors', encodeSafetensors({ ...full, 'fc.bias': { dtype: 'I32', shape: [3], data: [1, 2, 3] } }), /'fc\.bias' has dtype I32/);
  });
  test("keys named like Object members are unexpected; NaN/Inf values are refused, naming the tensor, before any assignment", async () => {
    const full = formulaStateDict(shapes());
    await refuse('proto.safetensors', encodeSafetensors({ ...full, constructor: { dtype: 'F32' as const, shape: [1], data: new Float32Array(1) } }), /unexpected tensor 'constructor'/);
    await refuse('tostring.safetensors', encodeSafetensors({ ...full, toString: { dtype: 'F32' as const, shape: [1], data: new Float32Array(1) } }), /unexpected tensor 'toString'/);
    const bias = Float32Array.from(full['fc.bias']!.data as ArrayLike<number>);
    bias[1] = Number.POSITIVE_INFINITY;
    await refuse('inf.safetensors', encodeSafetensors({ ...full, 'fc.bias': { dtype: 'F32', shape: [3], data: bias } }), /tensor 'fc\.bias' holds Infinity at flat index 1/);
  });
  test('never reads pickle checkpoints', async () => {
    await refuse('model.pth', new Uint8Array([0x80, 0x02, 0x7d, 0x71]), /pickle/);
    await refuse('not-safetensors.safetensors', new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0, 0, 0, 0, 1]), /safetensors|exceeds/);
  });
});
