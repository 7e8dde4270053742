import { ConfigError, FileFormatError } from '@lico/core';
import type { Augmentation } from './augment';
import { createInMemoryDataset, type InMemoryDataset } from './dataset';
import { locateDataFiles } from './locate';
import { parseMat5 } from './mat5';
import { SVHN_NORMALIZATION, type Normalization } from './normalization';
import { readMaybeGzip } from './read-file';

/** SVHN class names in label order (label 0 is the digit 0, stored as 10 in the files). */
export const SVHN_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** Options of {@link svhn}. */
export interface SvhnOptions {
  readonly split: 'train' | 'test' | 'extra';
  /** Directory holding `<split>_32x32.mat`. */
  readonly root?: string;
  /** Allow a download from the official location (default: `LICO_ALLOW_DOWNLOAD=1`). */
  readonly download?: boolean;
  readonly augmentation?: Augmentation;
  readonly normalization?: Normalization;
}

const MD5: Record<string, string> = { train: 'e26dedcc434d2e4c54c9b2d4a06d8373', test: 'eb5a983be6a315427106f1b164d9cef3', extra: 'a93ce644f1a588dc4d68dda5feec44a7' };

/** Converts SVHN's `X` `[32,32,3,N]` (column-major) and `y` `[N,1]` into HWC images and labels 0..9. */
export function svhnFromMat(buf: Uint8Array, file: string): { images: Uint8Array; labels: Int32Array } {
  const vars = parseMat5(buf, file);
  const X = vars.get('X');
  const y = vars.get('y');
  if (!X || !y) throw new FileFormatError(file, `expected variables 'X' and 'y', found ${[...vars.keys()].map((k) => `'${k}'`).join(', ') || 'none'}.`);
  const [h, w, c, n] = [X.dims[0], X.dims[1], X.dims[2], X.dims[3] ?? 1];
  if (X.dims.length > 4 || h !== 32 || w !== 32 || c !== 3) throw new FileFormatError(file, `'X' has dimensions [${X.dims.join(',')}], expected [32,32,3,N].`);
  if (y.data.length !== n) throw new FileFormatError(file, `'y' holds ${y.data.length} labels but 'X' holds ${n} images; the counts must match.`);
  const images = new Uint8Array(n * 3072);
  const src = X.data;
  // Column-major: X[r,c,ch,k] at r + 32*(c + 32*(ch + 3*k)).
  for (let k = 0; k < n; k++) {
    for (let ch = 0; ch < 3; ch++) {
      const plane = 1024 * (ch + 3 * k);
      for (let col = 0; col < 32; col++) {
        for (let r = 0; r < 32; r++) images[k * 3072 + (r * 32 + col) * 3 + ch] = src[plane + 32 * col + r]!;
      }
    }
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = y.data[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 10) throw new FileFormatError(file, `label ${v} at index ${i} is not in 0..10.`);
    labels[i] = v === 10 ? 0 : v;
  }
  return { images, labels };
}

/** SVHN cropped digits (32×32×3, 10 classes; MATLAB v5 `.mat` files). */
export async function svhn(options: SvhnOptions): Promise<InMemoryDataset> {
  const { split } = options;
  if (split !== 'train' && split !== 'test' && split !== 'extra') throw new ConfigError(`svhn: split must be 'train', 'test' or 'extra', got '${String(split)}'.`);
  const name = `${split}_32x32.mat`;
  const found = await locateDataFiles({
    dataset: 'svhn',
    files: { data: { names: [name], url: `http://ufldl.stanford.edu/housenumbers/${name}`, md5: MD5[split]! } },
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.download !== undefined ? { download: options.download } : {}),
  });
  const { images, labels } = svhnFromMat(await readMaybeGzip(found.data), found.data);
  return createInMemoryDataset({
    name: `svhn/${split}`,
    images,
    labels,
    imageShape: [32, 32, 3],
    classNames: SVHN_CLASSES,
    normalization: options.normalization ?? SVHN_NORMALIZATION,
    ...(options.augmentation ? { augmentation: options.augmentation } : {}),
  });
}
