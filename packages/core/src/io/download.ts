import { createHash, createReadStream, fs, os, path } from '#node-builtins';
import { FileFormatError, NotFoundError } from '../errors';

/**
 * Downloads with a local cache: a file is fetched once, checked against its checksum, written
 * atomically, and served from the cache afterwards. Works offline when the cache already holds it.
 */

/** The cache directory: `$LICO_CACHE_DIR`, else `$XDG_CACHE_HOME/lico`, else `~/.cache/lico`. */
export function defaultCacheDir(): string {
  if (process.env.LICO_CACHE_DIR) return process.env.LICO_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'lico');
}

/** Options of {@link downloadToCache}. */
export interface DownloadOptions {
  /** Directory to cache into (default {@link defaultCacheDir}). */
  readonly cacheDir?: string;
  /** File name inside the cache directory (default: the URL's last path segment). */
  readonly fileName?: string;
  /** Expected SHA-256 (hex) of the file. */
  readonly sha256?: string;
  /** Expected MD5 (hex) of the file (some official dataset pages publish only MD5). */
  readonly md5?: string;
  /** Called as bytes arrive; `total` is null when the server does not say. */
  readonly onProgress?: (received: number, total: number | null) => void;
  /** The fetch implementation (default: the global `fetch`); tests pass a fake one. */
  readonly fetch?: (url: string) => Promise<Response>;
}

/** SHA-256 or MD5 of a file, hex. */
export async function hashFile(file: string, algorithm: 'sha256' | 'md5' = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function verify(file: string, options: DownloadOptions): Promise<string | null> {
  if (options.sha256) {
    const got = await hashFile(file, 'sha256');
    if (got !== options.sha256.toLowerCase()) return `SHA-256 ${got} does not match the expected ${options.sha256}`;
  }
  if (options.md5) {
    const got = await hashFile(file, 'md5');
    if (got !== options.md5.toLowerCase()) return `MD5 ${got} does not match the expected ${options.md5}`;
  }
  return null;
}

/**
 * Returns the path of `url`'s file in the cache, downloading it first if it is not there (or its
 * checksum is wrong). The download goes to a temporary file that is checked, then renamed into
 * place, so the cache never holds a partial or corrupt file.
 *
 * @throws NotFoundError when the file is not cached and cannot be fetched (no network, HTTP error).
 * @throws FileFormatError when the downloaded bytes fail the checksum.
 */
export async function downloadToCache(url: string, options: DownloadOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const fileName = options.fileName ?? decodeURIComponent(new URL(url).pathname.split('/').pop() || 'download');
  if (fileName.includes('/') || fileName.includes('\\') || fileName === '..' || fileName === '.') {
    throw new FileFormatError(fileName, 'cache file name must be a plain file name');
  }
  const target = path.join(cacheDir, fileName);
  try {
    await fs.access(target);
    if ((await verify(target, options)) === null) return target;
    await fs.rm(target, { force: true });
  } catch {
    // not cached yet
  }
  await fs.mkdir(cacheDir, { recursive: true });
  const fetchImpl = options.fetch ?? ((u: string) => fetch(u));
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (error) {
    throw new NotFoundError(`Could not download ${url} (${(error as Error).message}); no cached copy at ${target}.`);
  }
  if (!response.ok || !response.body) {
    throw new NotFoundError(`Could not download ${url}: HTTP ${response.status} ${response.statusText}; no cached copy at ${target}.`);
  }
  const totalHeader = response.headers.get('content-length');
  const total = totalHeader ? Number(totalHeader) : null;
  const tmp = path.join(cacheDir, `.${fileName}.${process.pid}.${Date.now().toString(36)}.part`);
  const handle = await fs.open(tmp, 'w');
  let received = 0;
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await handle.write(value);
      received += value.byteLength;
      options.onProgress?.(received, total);
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw new NotFoundError(`Download of ${url} broke off after ${received} bytes (${(error as Error).message}).`);
  }
  await handle.close();
  if (total !== null && received !== total) {
    await fs.rm(tmp, { force: true });
    throw new FileFormatError(url, `download ended after ${received} of ${total} bytes`);
  }
  const problem = await verify(tmp, options);
  if (problem !== null) {
    await fs.rm(tmp, { force: true });
    throw new FileFormatError(url, problem);
  }
  await fs.rename(tmp, target);
  return target;
}
