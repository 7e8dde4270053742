import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, FileFormatError, NotFoundError, defaultCacheDir } from '@lico/core';
import type { Augmentation } from './augment';
import { createInMemoryDataset, type InMemoryDataset } from './dataset';
import { locateDataFiles, type DataFileSpec } from './locate';
import { CIFAR100_NORMALIZATION, CIFAR10_NORMALIZATION, type Normalization } from './normalization';
import { readMaybeGzip } from './read-file';
import { extractTar } from './tar';

/** CIFAR-10 class names in label order. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;
/** CIFAR-100 fine class names in label order. */
export const CIFAR100_FINE_CLASSES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle caterpillar cattle ' +
  'chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard ' +
  'lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree ' +
  'plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider ' +
  'squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm'
).split(' ');
/** CIFAR-100 coarse (superclass) names in label order. */
export const CIFAR100_COARSE_CLASSES = (
  'aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices household_furniture insects large_carnivores ' +
  'large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people reptiles ' +
  'small_mammals trees vehicles_1 vehicles_2'
).split(' ');

/** A CIFAR-100 dataset: labels are fine or coarse as asked; both are kept. */
export interface Cifar100Dataset extends InMemoryDataset {
  readonly fineLabels: Int32Array;
  readonly coarseLabels: Int32Array;
}

/** Options of {@link cifar10}. */
export interface CifarOptions {
  readonly split: 'train' | 'test';
  /** Directory with the binary batches (or their `cifar-10-batches-bin/` / `cifar-100-binary/` folder). */
  readonly root?: string;
  /** Allow a download of the official binary tarball (default: `LICO_ALLOW_DOWNLOAD=1`). */
  readonly download?: boolean;
  readonly augmentation?: Augmentation;
  readonly normalization?: Normalization;
}

/** Options of {@link cifar100}. */
export interface Cifar100Options extends CifarOptions {
  /** Which labels batches deliver (default `'fine'`). */
  readonly labels?: 'fine' | 'coarse';
}

/**
 * Parses CIFAR binary records (`labelBytes` label bytes then 3072 bytes CHW) into HWC images and
 * the label columns.
 */
export function parseCifarBinary(bytes: Uint8Array, file: string, labelBytes: 1 | 2, classCounts: readonly number[]): { images: Uint8Array; labels: Int32Array[] } {
  const rec = labelBytes + 3072;
  if (bytes.length === 0 || bytes.length % rec !== 0) {
    throw new FileFormatError(file, `${bytes.length} bytes is not a whole number of ${rec}-byte CIFAR records (truncated or not a CIFAR${labelBytes === 1 ? '-10' : '-100'} binary file).`);
  }
  const n = bytes.length / rec;
  const images = new Uint8Array(n * 3072);
  const labels = Array.from({ length: labelBytes }, () => new Int32Array(n));
  for (let i = 0; i < n; i++) {
    const base = i * rec;
    for (let k = 0; k < labelBytes; k++) {
      const l = bytes[base + k]!;
      if (l >= classCounts[k]!) throw new FileFormatError(file, `record ${i}: label ${l} is outside 0..${classCounts[k]! - 1}.`);
      labels[k]![i] = l;
    }
    const src = base + labelBytes;
    const dst = i * 3072;
    for (let p = 0; p < 1024; p++) {
      images[dst + p * 3] = bytes[src + p]!;
      images[dst + p * 3 + 1] = bytes[src + 1024 + p]!;
      images[dst + p * 3 + 2] = bytes[src + 2048 + p]!;
    }
  }
  return { images, labels };
}

async function readNames(file: string | undefined, fallback: readonly string[]): Promise<readonly string[]> {
  if (!file) return fallback;
  try {
    const names = (await readFile(file, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
    return names.length === fallback.length ? names : fallback;
  } catch {
    return fallback;
  }
}

function alternatives(dirs: readonly string[], name: string): string[] {
  return [name, ...dirs.map((d) => `${d}/${name}`)];
}

async function locateCifar<K extends string>(
  dataset: string,
  files: Record<K, DataFileSpec>,
  archive: { name: string; url: string; md5: string },
  options: CifarOptions,
): Promise<Record<K, string>> {
  const common = { dataset, files, ...(options.root !== undefined ? { root: options.root } : {}) };
  try {
    return await locateDataFiles({ ...common, download: false });
  } catch (error) {
    const allowed = options.download ?? process.env.LICO_ALLOW_DOWNLOAD === '1';
    if (!(error instanceof NotFoundError) || !allowed || options.root !== undefined) {
      if (error instanceof NotFoundError) {
        throw new NotFoundError(`${error.message.replace(/\n.*download.*$/m, '')}\n  - or allow a download of ${archive.url}: pass { download: true } or set LICO_ALLOW_DOWNLOAD=1`);
      }
      throw error;
    }
    const cacheDir = path.join(defaultCacheDir(), 'datasets', dataset);
    const got = await locateDataFiles({ dataset, files: { archive: { names: [archive.name], url: archive.url, md5: archive.md5 } }, download: true, cacheDir });
    await extractTar(got.archive, cacheDir);
    return locateDataFiles({ dataset, files, root: cacheDir });
  }
}

/** CIFAR-10 binary version (32×32×3, 10 classes). */
export async function cifar10(options: CifarOptions): Promise<InMemoryDataset> {
  if (options.split !== 'train' && options.split !== 'test') throw new ConfigError(`cifar10: split must be 'train' or 'test', got '${String(options.split)}'.`);
  const sub = ['cifar-10-batches-bin'];
  const names = options.split === 'train' ? [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`) : ['test_batch.bin'];
  const files = Object.fromEntries(names.map((n) => [n, { names: alternatives(sub, n) }])) as Record<string, DataFileSpec>;
  const found = await locateCifar('cifar-10', files, { name: 'cifar-10-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530' }, options);
  const parts = await Promise.all(names.map(async (n) => parseCifarBinary(await readMaybeGzip(found[n]!), found[n]!, 1, [10])));
  const total = parts.reduce((s, p) => s + p.labels[0]!.length, 0);
  const images = new Uint8Array(total * 3072);
  const labels = new Int32Array(total);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3072);
    labels.set(p.labels[0]!, at);
    at += p.labels[0]!.length;
  }
  const meta = path.join(path.dirname(found[names[0]!]!), 'batches.meta.txt');
  return createInMemoryDataset({
    name: `cifar-10/${options.split}`,
    images,
    labels,
    imageShape: [32, 32, 3],
    classNames: await readNames(meta, CIFAR10_CLASSES),
    normalization: options.normalization ?? CIFAR10_NORMALIZATION,
    ...(options.augmentation ? { augmentation: options.augmentation } : {}),
  });
}

/** CIFAR-100 binary version (32×32×3; 100 fine or 20 coarse classes). */
export async function cifar100(options: Cifar100Options): Promise<Cifar100Dataset> {
  if (options.split !== 'train' && options.split !== 'test') throw new ConfigError(`cifar100: split must be 'train' or 'test', got '${String(options.split)}'.`);
  const which = options.labels ?? 'fine';
  if (which !== 'fine' && which !== 'coarse') throw new ConfigError(`cifar100: labels must be 'fine' or 'coarse', got '${String(which)}'.`);
  const name = `${options.split}.bin`;
  const found = await locateCifar('cifar-100', { data: { names: alternatives(['cifar-100-binary'], name) } }, { name: 'cifar-100-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8' }, options);
  const { images, labels } = parseCifarBinary(await readMaybeGzip(found.data), found.data, 2, [20, 100]);
  const dir = path.dirname(found.data);
  const coarseNames = await readNames(path.join(dir, 'coarse_label_names.txt'), CIFAR100_COARSE_CLASSES);
  const fineNames = await readNames(path.join(dir, 'fine_label_names.txt'), CIFAR100_FINE_CLASSES);
  const [coarseLabels, fineLabels] = labels as [Int32Array, Int32Array];
  const base = createInMemoryDataset({
    name: `cifar-100/${options.split}/${which}`,
    images,
    labels: which === 'fine' ? fineLabels : coarseLabels,
    imageShape: [32, 32, 3],
    classNames: which === 'fine' ? fineNames : coarseNames,
    normalization: options.normalization ?? CIFAR100_NORMALIZATION,
    ...(options.augmentation ? { augmentation: options.augmentation } : {}),
  });
  return { ...base, pipelineStats: base.pipelineStats, fineLabels, coarseLabels };
}
