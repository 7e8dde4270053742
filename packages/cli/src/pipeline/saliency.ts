/**
 * Interpreters by name, heatmap overlays as PNG, and localisation metrics, from `@lico/cam` where
 * this build exports them, with small stand-ins where it does not yet.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnknownNameError, type Interpreter } from '@lico/core';
import * as cam from '@lico/cam';
import { encodePng } from '../report/encode-png';

/** Creates an interpreter by name with the CLI's defaults (RISE: seeded, `riseMasks` masks, default 1000; SmoothGrad: seeded). */
export function interpreterByName(name: string, seed: number, options: { readonly riseMasks?: number } = {}): Interpreter {
  const names = cam.INTERPRETER_NAMES as readonly string[];
  if (!names.includes(name)) throw new UnknownNameError('interpreter', name, names);
  if (name === 'rise') return cam.createInterpreter('rise', { seed, numMasks: options.riseMasks ?? 1000 });
  if (name === 'smoothGrad') return cam.createInterpreter('smoothGrad', { seed });
  return cam.createInterpreter(name as cam.InterpreterName);
}

/** Normalisation of a dataset (per-channel mean and std in [0,1] pixel units). */
export interface ChannelNormalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

type RenderOverlay = (image: tf.Tensor3D, saliency: tf.Tensor2D, options?: { normalization?: ChannelNormalization }) => Promise<Uint8Array>;

function jet(t: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** Denormalised image bytes `[H*W*C]` in 0…255. */
async function imageBytes(image: tf.Tensor3D, normalization?: ChannelNormalization): Promise<Uint8Array> {
  const [h, w, c] = image.shape;
  const data = await image.data();
  const out = new Uint8Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < c; k++) {
      const v = data[p * c + k]!;
      const x = normalization ? v * (normalization.std[k] ?? 1) + (normalization.mean[k] ?? 0) : v;
      out[p * c + k] = Math.round(255 * Math.min(1, Math.max(0, x)));
    }
  }
  return out;
}

/** The image alone as PNG (grey or RGB), denormalised. */
export async function renderInput(image: tf.Tensor3D, normalization?: ChannelNormalization): Promise<Uint8Array> {
  const [h, w, c] = image.shape;
  const bytes = await imageBytes(image, normalization);
  return encodePng(bytes, w, h, c === 1 ? 1 : 3);
}

/**
 * A jet heatmap blended 50/50 over the image, as PNG: `@lico/cam`'s `renderOverlay` when exported,
 * otherwise the same blend done here.
 */
export async function renderHeatmapOverlay(image: tf.Tensor3D, saliency: tf.Tensor2D, normalization?: ChannelNormalization): Promise<Uint8Array> {
  const fromCam = (cam as unknown as Record<string, unknown>).renderOverlay as RenderOverlay | undefined;
  if (typeof fromCam === 'function') return fromCam(image, saliency, normalization ? { normalization } : {});
  const [h, w, c] = image.shape;
  const bytes = await imageBytes(image, normalization);
  const sal = await saliency.data();
  const out = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = jet(Math.min(1, Math.max(0, sal[p]!)));
    const heat = [r, g, b];
    for (let k = 0; k < 3; k++) {
      const base = bytes[p * c + (c === 1 ? 0 : k)]!;
      out[p * 3 + k] = Math.round(0.5 * base + 0.5 * heat[k]!);
    }
  }
  return encodePng(out, w, h, 3);
}

/** Pointing game and energy in the mask of one batch (`@lico/cam`'s when exported). */
export async function localisationScores(saliency: tf.Tensor3D, masks: tf.Tensor3D): Promise<{ hits: (boolean | null)[]; energy: number[] }> {
  const mod = cam as unknown as Record<string, unknown>;
  if (typeof mod.pointingGame === 'function' && typeof mod.energyInMask === 'function') {
    const pg = await (mod.pointingGame as (s: tf.Tensor3D, m: tf.Tensor3D) => Promise<{ hits: (boolean | null)[] }>)(saliency, masks);
    const en = await (mod.energyInMask as (s: tf.Tensor3D, m: tf.Tensor3D) => Promise<{ energy: number[] }>)(saliency, masks);
    return { hits: pg.hits, energy: en.energy };
  }
  const [n, h, w] = saliency.shape;
  const s = await saliency.data();
  const m = await masks.data();
  const hits: (boolean | null)[] = [];
  const energy: number[] = [];
  for (let i = 0; i < n; i++) {
    const off = i * h * w;
    let max = -Infinity;
    let any = false;
    let inside = 0;
    let total = 0;
    for (let p = 0; p < h * w; p++) {
      max = Math.max(max, s[off + p]!);
      if (m[off + p]! > 0) {
        any = true;
        inside += s[off + p]!;
      }
      total += s[off + p]!;
    }
    let hit = false;
    for (let p = 0; p < h * w; p++) if (s[off + p] === max && m[off + p]! > 0) hit = true;
    hits.push(any ? hit : null);
    energy.push(total > 0 ? inside / total : Number.NaN);
  }
  return { hits, energy };
}
