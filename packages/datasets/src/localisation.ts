import type { LicoDataset } from './dataset';

/** A box `[y0, x0, y1, x1]` in pixels, ends exclusive. */
export type Box = readonly [number, number, number, number];

/** A dataset with a ground-truth object mask and box per image (for pointing game, energy in mask). */
export interface LocalisationDataset extends LicoDataset {
  /** Object mask of sample `i`: H×W bytes, 1 = object, 0 = background. */
  mask(i: number): Uint8Array;
  /** Tight bounding box of the mask of sample `i`. */
  box(i: number): Box;
  /** Masks of the given samples as one `[N,H,W]` array (e.g. for `batch.indices`). */
  batchMasks(indices: ArrayLike<number>): Uint8Array;
  /** Every mask (materialised on first access). */
  readonly masks: readonly Uint8Array[];
  /** Every box (materialised on first access). */
  readonly boxes: readonly Box[];
}

/** Tight box of the non-zero pixels of an H×W mask, or null when it is empty. */
export function maskBox(mask: Uint8Array, h: number, w: number): Box | null {
  let y0 = h;
  let x0 = w;
  let y1 = -1;
  let x1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mask[y * w + x] !== 0) {
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  return y1 < 0 ? null : [y0, x0, y1 + 1, x1 + 1];
}

/** Adds mask/box accessors to a dataset given per-sample functions. */
export function withLocalisation<E extends object = object>(base: LicoDataset, mask: (i: number) => Uint8Array, box: (i: number) => Box, extra?: E): LocalisationDataset & E {
  const [h, w] = base.imageShape;
  let masks: Uint8Array[] | undefined;
  let boxes: Box[] | undefined;
  const out: LocalisationDataset & E = {
    ...base,
    ...(extra as E),
    pipelineStats: base.pipelineStats,
    mask,
    box,
    batchMasks: (indices) => {
      const res = new Uint8Array(indices.length * h * w);
      for (let k = 0; k < indices.length; k++) res.set(mask(indices[k]!), k * h * w);
      return res;
    },
    get masks() {
      masks ??= Array.from({ length: base.size }, (_, i) => mask(i));
      return masks;
    },
    get boxes() {
      boxes ??= Array.from({ length: base.size }, (_, i) => box(i));
      return boxes;
    },
    withAugmentation: (a) => withLocalisation(base.withAugmentation(a), mask, box, extra),
  };
  return out;
}
