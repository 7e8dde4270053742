import { access } from 'node:fs/promises';
import path from 'node:path';
import { createProgressBar, defaultCacheDir, downloadToCache, NotFoundError, type ProgressBar } from '@lico/core';

/** One file a dataset needs. */
export interface DataFileSpec {
  /** Accepted file names, in preference order (e.g. `x.gz` then `x`); the first is the download name. */
  readonly names: readonly string[];
  /** Official download URL. */
  readonly url?: string;
  readonly md5?: string;
  readonly sha256?: string;
}

/** Options of {@link locateDataFiles}. */
export interface LocateOptions<K extends string> {
  /** Dataset directory name, e.g. `'fashion-mnist'`. */
  readonly dataset: string;
  readonly files: Readonly<Record<K, DataFileSpec>>;
  /** Explicit directory: when given, it is the only place looked at. */
  readonly root?: string;
  /** Allow a download from the official location (default: `LICO_ALLOW_DOWNLOAD=1`). */
  readonly download?: boolean;
  /** System directories to look in after the cache (e.g. Debian's `/usr/share/datasets/fashion-mnist`). */
  readonly systemDirs?: readonly string[];
  /** A hint appended to the not-found message (e.g. the apt-get command). */
  readonly installHint?: string;
  /** Overrides the cache directory (default `<defaultCacheDir()>/datasets/<dataset>`). */
  readonly cacheDir?: string;
  /** Custom fetch for downloads (tests). */
  readonly fetch?: (url: string) => Promise<Response>;
  /** Show a progress bar on stderr while downloading (default true). */
  readonly progress?: boolean;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function findAll<K extends string>(dir: string, files: Readonly<Record<K, DataFileSpec>>): Promise<Record<K, string> | null> {
  const out = {} as Record<K, string>;
  for (const key of Object.keys(files) as K[]) {
    let found: string | undefined;
    for (const name of files[key].names) {
      const candidate = path.join(dir, name);
      if (await exists(candidate)) {
        found = candidate;
        break;
      }
    }
    if (found === undefined) return null;
    out[key] = found;
  }
  return out;
}

/**
 * Finds a dataset's files: explicit `root` → `$LICO_DATA_DIR/<dataset>` → the cache directory →
 * system directories → a download from the official URLs (checksummed, with a progress bar) when
 * allowed → otherwise a {@link NotFoundError} that says what to do.
 */
export async function locateDataFiles<K extends string>(options: LocateOptions<K>): Promise<Record<K, string>> {
  const { dataset, files } = options;
  const wanted = Object.values<DataFileSpec>(files).map((f) => f.names[0]!).join(', ');
  if (options.root !== undefined) {
    const got = await findAll(options.root, files);
    if (got) return got;
    throw new NotFoundError(`${dataset}: the directory '${options.root}' (given as root) does not hold all of ${wanted}.`);
  }
  const cacheDir = options.cacheDir ?? path.join(defaultCacheDir(), 'datasets', dataset);
  const dirs: string[] = [];
  if (process.env.LICO_DATA_DIR) dirs.push(path.join(process.env.LICO_DATA_DIR, dataset));
  dirs.push(cacheDir, ...(options.systemDirs ?? []));
  for (const dir of dirs) {
    const got = await findAll(dir, files);
    if (got) return got;
  }
  const allowed = options.download ?? process.env.LICO_ALLOW_DOWNLOAD === '1';
  const downloadable = Object.values<DataFileSpec>(files).every((f) => f.url !== undefined);
  if (allowed && downloadable) {
    const out = {} as Record<K, string>;
    for (const key of Object.keys(files) as K[]) {
      const spec = files[key];
      let bar: ProgressBar | undefined;
      out[key] = await downloadToCache(spec.url!, {
        cacheDir,
        fileName: spec.names[0]!,
        ...(spec.md5 ? { md5: spec.md5 } : {}),
        ...(spec.sha256 ? { sha256: spec.sha256 } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        onProgress: (received, total) => {
          if (options.progress === false) return;
          bar ??= createProgressBar({ total: total ?? 0, label: `download ${spec.names[0]}` });
          bar.update(received);
        },
      });
      bar?.done();
    }
    return out;
  }
  const lines = [
    `${dataset}: could not find ${wanted}. Looked in: ${dirs.join(', ')}.`,
    'To fix it, do one of:',
    ...(options.installHint ? [`  - ${options.installHint}`] : []),
    `  - put the files in $LICO_DATA_DIR/${dataset} (set LICO_DATA_DIR) or pass { root: '<dir>' }`,
    downloadable
      ? `  - allow a download from the official location: pass { download: true } or set LICO_ALLOW_DOWNLOAD=1 (files go to ${cacheDir})`
      : '  - (no official download is known for this dataset)',
  ];
  throw new NotFoundError(lines.join('\n'));
}
