import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, FileFormatError, NotFoundError } from '@lico/core';
import type { Augmentation } from './augment';
import { createInMemoryDataset, type InMemoryDataset } from './dataset';
import { readImage, toChannels, type DecodedImage } from './decode-image';
import { IMAGENET_NORMALIZATION, type Normalization } from './normalization';

/** File extensions read as images. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** Options of {@link imageFolder}. */
export interface ImageFolderOptions {
  /** Directory with one sub-folder per class. */
  readonly root: string;
  /** Class names in label order; a sub-folder not in the list is an error (default: sorted sub-folder names). */
  readonly classNames?: readonly string[];
  /** Resize every image to `[height,width]` (bilinear); without it all images must share one size. */
  readonly size?: readonly [number, number];
  /** 3 (RGB, default) or 1 (luminance). */
  readonly channels?: 1 | 3;
  /** Default: ImageNet statistics for 3 channels, mean 0.5 / std 0.5 for 1 channel. */
  readonly normalization?: Normalization;
  readonly augmentation?: Augmentation;
  /** Dataset name (default `image-folder:<root>`). */
  readonly name?: string;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function listImages(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((n) => (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(n).toLowerCase())).sort();
}

/** Decodes `files` into one uint8 HWC array; sizes must agree unless `size` is given. */
export async function decodeAll(files: readonly string[], channels: 1 | 3, size: readonly [number, number] | undefined): Promise<{ images: Uint8Array; height: number; width: number }> {
  let height = size?.[0];
  let width = size?.[1];
  let first = '';
  let images = size ? new Uint8Array(files.length * size[0] * size[1] * channels) : new Uint8Array(0);
  for (let i = 0; i < files.length; i++) {
    const img: DecodedImage = await readImage(files[i]!);
    if (height === undefined || width === undefined) {
      height = img.height;
      width = img.width;
      first = files[i]!;
      images = new Uint8Array(files.length * height * width * channels);
    } else if (!size && (img.height !== height || img.width !== width)) {
      throw new FileFormatError(files[i]!, `is ${img.width}×${img.height} but ${first} is ${width}×${height}; pass { size: [h, w] } to resize.`);
    }
    toChannels(img, channels, height, width, images, i * height * width * channels);
  }
  return { images, height: height ?? 0, width: width ?? 0 };
}

/**
 * An image folder (`root/<class>/*.png|jpg`), decoded with pngjs and jpeg-js into memory. Labels
 * follow `classNames` (default: sorted sub-folder names).
 */
export async function imageFolder(options: ImageFolderOptions): Promise<InMemoryDataset> {
  const { root } = options;
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new ConfigError(`imageFolder: channels must be 1 or 3, got ${String(channels)}.`);
  if (options.size && !options.size.every((d) => Number.isInteger(d) && d > 0)) throw new ConfigError(`imageFolder: size must be two positive integers, got [${options.size.join(',')}].`);
  if (!(await isDir(root))) throw new NotFoundError(`${root}: no such directory (imageFolder expects root/<class>/<image>).`);
  const entries = (await readdir(root)).sort();
  const folders: string[] = [];
  for (const e of entries) if (await isDir(path.join(root, e))) folders.push(e);
  const classNames = options.classNames ?? folders;
  for (const f of folders) {
    if (!classNames.includes(f)) throw new FileFormatError(path.join(root, f), `unknown class folder '${f}'; the classes are ${classNames.map((c) => `'${c}'`).join(', ')}.`);
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (const f of folders) {
    for (const name of await listImages(path.join(root, f))) {
      files.push(path.join(root, f, name));
      labels.push(classNames.indexOf(f));
    }
  }
  if (files.length === 0) throw new NotFoundError(`${root}: no PNG or JPEG images in class sub-folders.`);
  const { images, height, width } = await decodeAll(files, channels, options.size);
  return createInMemoryDataset({
    name: options.name ?? `image-folder:${root}`,
    images,
    labels: Int32Array.from(labels),
    imageShape: [height, width, channels],
    classNames,
    normalization: options.normalization ?? (channels === 3 ? IMAGENET_NORMALIZATION : { mean: [0.5], std: [0.5] }),
    ...(options.augmentation ? { augmentation: options.augmentation } : {}),
  });
}
