import { ConfigError } from '@lico/core';
import { createDataset, createInMemoryDataset, type InMemoryDataset, type LicoDataset } from './dataset';

function checkIndices(size: number, indices: ArrayLike<number>): void {
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= size) throw new ConfigError(`subset index ${i} (position ${k}) is outside 0..${size - 1}.`);
  }
}

/** The samples at `indices`, in that order (images copied), as an in-memory dataset. */
export function subset(dataset: InMemoryDataset, indices: ArrayLike<number>, name?: string): InMemoryDataset;
/** The samples at `indices`, in that order, read through the parent dataset. */
export function subset(dataset: LicoDataset, indices: ArrayLike<number>, name?: string): LicoDataset;
export function subset(dataset: LicoDataset, indices: ArrayLike<number>, name?: string): LicoDataset {
  checkIndices(dataset.size, indices);
  const [h, w, c] = dataset.imageShape;
  const per = h * w * c;
  const n = indices.length;
  const subName = name ?? `${dataset.name}[${n}]`;
  if ('images' in dataset && 'labels' in dataset) {
    const parent = dataset as InMemoryDataset;
    const images = new Uint8Array(n * per);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      images.set(parent.images.subarray(i * per, (i + 1) * per), k * per);
      labels[k] = parent.labels[i]!;
    }
    return createInMemoryDataset({
      name: subName,
      images,
      labels,
      imageShape: [h, w, c],
      classNames: parent.classNames,
      normalization: parent.normalization,
      augmentation: parent.augmentation,
    });
  }
  const map = Int32Array.from(indices);
  return createDataset({
    name: subName,
    source: {
      size: n,
      imageShape: [h, w, c],
      pixels: (k) => ({ data: dataset.image(map[k]!), offset: 0 }),
      label: (k) => dataset.label(map[k]!),
    },
    classNames: dataset.classNames,
    normalization: dataset.normalization,
    augmentation: dataset.augmentation,
  });
}
