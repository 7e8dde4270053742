import { ConfigError, FileFormatError } from '@lico/core';
import { createInMemoryDataset, type InMemoryDataset } from './dataset';
import type { Augmentation } from './augment';
import { readIdx } from './idx';
import { locateDataFiles, type DataFileSpec } from './locate';
import { FASHION_MNIST_NORMALIZATION, MNIST_NORMALIZATION, type Normalization } from './normalization';

/** Fashion-MNIST class names in label order. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
/** MNIST class names in label order. */
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
/** Debian's `dataset-fashion-mnist` directory. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link fashionMnist} and {@link mnist}. */
export interface IdxDatasetOptions {
  readonly split: 'train' | 'test';
  /** Directory holding the IDX files (gzip or raw); see `locateDataFiles` for the search order. */
  readonly root?: string;
  /** Allow a download from the official location (default: `LICO_ALLOW_DOWNLOAD=1`). */
  readonly download?: boolean;
  /** Training augmentation (default: none; a typical one is `{ cropPadding: 2, flip: true }`). */
  readonly augmentation?: Augmentation;
  /** Override the normalisation (default: the dataset's statistics). */
  readonly normalization?: Normalization;
}

function idxFiles(base: string, md5: Record<string, string>): Record<'images' | 'labels', DataFileSpec> {
  const spec = (kind: string, sum: string | undefined): DataFileSpec => {
    const stem = `${base.replace('%', kind)}-ubyte`;
    return { names: [`${stem}.gz`, stem], ...(sum ? { md5: sum } : {}) };
  };
  return { images: spec('images-idx3', md5.images), labels: spec('labels-idx1', md5.labels) };
}

/** Reads an IDX image/label pair into an in-memory dataset; checks that the counts agree. */
export async function readIdxPair(
  imagesFile: string,
  labelsFile: string,
  meta: { name: string; classNames: readonly string[]; normalization: Normalization; augmentation?: Augmentation },
): Promise<InMemoryDataset> {
  const [images, labels] = await Promise.all([readIdx(imagesFile, 3), readIdx(labelsFile, 1)]);
  const [n, h, w] = images.shape as [number, number, number];
  if (labels.shape[0] !== n) {
    throw new FileFormatError(labelsFile, `holds ${labels.shape[0]} labels but ${imagesFile} holds ${n} images; the counts must match.`);
  }
  const lab = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels.data[i]!;
    if (l >= meta.classNames.length) throw new FileFormatError(labelsFile, `label ${l} at index ${i} is outside 0..${meta.classNames.length - 1}.`);
    lab[i] = l;
  }
  return createInMemoryDataset({
    name: meta.name,
    images: images.data,
    labels: lab,
    imageShape: [h, w, 1],
    classNames: meta.classNames,
    normalization: meta.normalization,
    ...(meta.augmentation ? { augmentation: meta.augmentation } : {}),
  });
}

const FASHION_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const FASHION_MD5: Record<string, Record<string, string>> = {
  train: { images: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', labels: '25c81989df183df01b3e8a0aad5dffbe' },
  test: { images: 'bef4ecab320f06d8554ea6380940ec79', labels: 'bb300cfdad3c16e7a12a480ee83cd310' },
};
const MNIST_URL = 'https://ossci-datasets.s3.amazonaws.com/mnist/';
const MNIST_MD5: Record<string, Record<string, string>> = {
  train: { images: 'f68b3c2dcbeaaa9fbdd348bbdeb94873', labels: 'd53e105ee54ea40749a09fcbcd1e9432' },
  test: { images: '9fb629c4189551a2d022fa330f9573f3', labels: 'ec29112dd5afa0611ce80d1b7f02629c' },
};

async function idxDataset(
  dataset: string,
  url: string,
  md5: Record<string, Record<string, string>>,
  classNames: readonly string[],
  defaultNorm: Normalization,
  options: IdxDatasetOptions,
  systemDirs: readonly string[],
  installHint: string | undefined,
): Promise<InMemoryDataset> {
  const split = options.split;
  if (split !== 'train' && split !== 'test') throw new ConfigError(`${dataset}: split must be 'train' or 'test', got '${String(split)}'.`);
  const base = split === 'train' ? 'train-%' : 't10k-%';
  const files = idxFiles(base, md5[split]!);
  const withUrls = {
    images: { ...files.images, url: url + files.images.names[0] },
    labels: { ...files.labels, url: url + files.labels.names[0] },
  };
  const found = await locateDataFiles({
    dataset,
    files: withUrls,
    systemDirs,
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.download !== undefined ? { download: options.download } : {}),
    ...(installHint ? { installHint } : {}),
  });
  return readIdxPair(found.images, found.labels, {
    name: `${dataset}/${split}`,
    classNames,
    normalization: options.normalization ?? defaultNorm,
    ...(options.augmentation ? { augmentation: options.augmentation } : {}),
  });
}

/**
 * Fashion-MNIST (28×28×1, 10 classes). Looks in `root`, `$LICO_DATA_DIR/fashion-mnist`, the cache,
 * Debian's `/usr/share/datasets/fashion-mnist`, then downloads when allowed.
 */
export function fashionMnist(options: IdxDatasetOptions): Promise<InMemoryDataset> {
  return idxDataset('fashion-mnist', FASHION_URL, FASHION_MD5, FASHION_MNIST_CLASSES, FASHION_MNIST_NORMALIZATION, options, [DEBIAN_FASHION_MNIST_DIR], 'sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu; files land in /usr/share/datasets/fashion-mnist)');
}

/** MNIST digits (28×28×1, 10 classes); same search order as {@link fashionMnist} minus Debian. */
export function mnist(options: IdxDatasetOptions): Promise<InMemoryDataset> {
  return idxDataset('mnist', MNIST_URL, MNIST_MD5, MNIST_CLASSES, MNIST_NORMALIZATION, options, [], undefined);
}
