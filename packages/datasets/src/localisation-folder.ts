import { access, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, FileFormatError, NotFoundError } from '@lico/core';
import type { Augmentation } from './augment';
import { createInMemoryDataset } from './dataset';
import { readImage } from './decode-image';
import { decodeAll, IMAGE_EXTENSIONS } from './image-folder';
import { maskBox, withLocalisation, type Box, type LocalisationDataset } from './localisation';
import { IMAGENET_NORMALIZATION, type Normalization } from './normalization';

/** Options of {@link localisationFolder}. */
export interface LocalisationFolderOptions {
  /** Resize images (bilinear) and masks (nearest) to `[height,width]`; without it all must share one size. */
  readonly size?: readonly [number, number];
  /** 3 (RGB, default) or 1. */
  readonly channels?: 1 | 3;
  readonly normalization?: Normalization;
  readonly augmentation?: Augmentation;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${file}: no such file (a localisation folder needs images/, masks/, labels.csv and classes.txt).`);
    throw error;
  }
}

async function findMask(masksDir: string, file: string): Promise<string> {
  const stem = file.slice(0, file.length - path.extname(file).length);
  for (const name of [file, `${stem}.png`]) {
    const candidate = path.join(masksDir, name);
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new NotFoundError(`${path.join(masksDir, `${stem}.png`)}: the mask of image '${file}' is missing.`);
}

/**
 * Reads an annotated folder: `images/` (PNG/JPEG), `masks/` (PNG, same file names; a pixel > 0 is
 * the object), `labels.csv` (`file,label`; the label is a class index or name) and `classes.txt`
 * (one class name per line, in label order). Samples follow the order of `labels.csv`.
 */
export async function localisationFolder(root: string, options: LocalisationFolderOptions = {}): Promise<LocalisationDataset> {
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new ConfigError(`localisationFolder: channels must be 1 or 3, got ${String(channels)}.`);
  const classesFile = path.join(root, 'classes.txt');
  const labelsFile = path.join(root, 'labels.csv');
  const classNames = (await readText(classesFile)).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (classNames.length === 0) throw new FileFormatError(classesFile, 'no class names (one per line expected).');
  const rows = (await readText(labelsFile)).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  const imagesDir = path.join(root, 'images');
  const masksDir = path.join(root, 'masks');
  let onDisk: string[];
  try {
    onDisk = (await readdir(imagesDir)).filter((n) => (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(n).toLowerCase()));
  } catch {
    throw new NotFoundError(`${imagesDir}: no such directory.`);
  }
  const files: string[] = [];
  const labels: number[] = [];
  rows.forEach((row, r) => {
    const cells = row.split(',').map((s) => s.trim());
    if (r === 0 && cells[0] === 'file' && cells[1] === 'label') return;
    if (cells.length !== 2 || !cells[0]) throw new FileFormatError(labelsFile, `line ${r + 1}: expected 'file,label', got '${row}'.`);
    const [file, label] = cells as [string, string];
    const index = /^\d+$/.test(label) ? Number(label) : classNames.indexOf(label);
    if (index < 0 || index >= classNames.length) {
      throw new FileFormatError(labelsFile, `line ${r + 1}: unknown label '${label}'; the classes (classes.txt) are ${classNames.map((c, i) => `${i} '${c}'`).join(', ')}.`);
    }
    if (!onDisk.includes(file)) throw new FileFormatError(labelsFile, `line ${r + 1}: image '${file}' is not in ${imagesDir}.`);
    if (files.includes(file)) throw new FileFormatError(labelsFile, `line ${r + 1}: image '${file}' is listed twice.`);
    files.push(file);
    labels.push(index);
  });
  for (const f of onDisk) if (!files.includes(f)) throw new FileFormatError(labelsFile, `image '${f}' in ${imagesDir} has no row.`);
  if (files.length === 0) throw new FileFormatError(labelsFile, 'no labelled images.');
  const { images, height, width } = await decodeAll(files.map((f) => path.join(imagesDir, f)), channels, options.size);
  const masks: Uint8Array[] = [];
  const boxes: Box[] = [];
  for (const f of files) {
    const maskFile = await findMask(masksDir, f);
    const img = await readImage(maskFile);
    if (!options.size && (img.width !== width || img.height !== height)) {
      throw new FileFormatError(maskFile, `mask is ${img.width}×${img.height} but its image '${f}' is ${width}×${height}.`);
    }
    // Nearest-neighbour: a mask pixel is object when any of R, G, B > 0.
    const mask = new Uint8Array(height * width);
    for (let y = 0; y < height; y++) {
      const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / height));
      for (let x = 0; x < width; x++) {
        const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / width));
        const p = (sy * img.width + sx) * 4;
        mask[y * width + x] = img.rgba[p]! > 0 || img.rgba[p + 1]! > 0 || img.rgba[p + 2]! > 0 ? 1 : 0;
      }
    }
    const box = maskBox(mask, height, width);
    if (!box) throw new FileFormatError(maskFile, 'mask is empty (no pixel > 0).');
    masks.push(mask);
    boxes.push(box);
  }
  const base = createInMemoryDataset({
    name: `localisation-folder:${root}`,
    images,
    labels: Int32Array.from(labels),
    imageShape: [height, width, channels],
    classNames,
    normalization: options.normalization ?? (channels === 3 ? IMAGENET_NORMALIZATION : { mean: [0.5], std: [0.5] }),
    ...(options.augmentation ? { augmentation: options.augmentation } : {}),
  });
  return withLocalisation(base, (i) => masks[i]!, (i) => boxes[i]!, { images: base.images, labels: base.labels, files });
}
