import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFormatError, NotFoundError } from '../errors';
import { defaultCacheDir, downloadToCache } from './download';

const payload = new TextEncoder().encode('hello lico '.repeat(1000));
const sha = createHash('sha256').update(payload).digest('hex');

/** A fake fetch that serves `bytes` in chunks and counts calls. */
function fakeFetch(bytes: Uint8Array, calls: { n: number }, status = 200): (url: string) => Promise<Response> {
  return async () => {
    calls.n++;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.subarray(i, i + 4096));
        controller.close();
      },
    });
    return new Response(stream, { status, headers: { 'content-length': String(bytes.length) } });
  };
}

describe('downloadToCache', () => {
  it('downloads once, verifies, reports progress and then serves the cache', async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lico-dl-'));
    const calls = { n: 0 };
    const progress: number[] = [];
    const file = await downloadToCache('https://example.invalid/data/file.bin', { cacheDir, sha256: sha, fetch: fakeFetch(payload, calls), onProgress: (r) => progress.push(r) });
    expect(file).toBe(path.join(cacheDir, 'file.bin'));
    expect(new Uint8Array(readFileSync(file))).toEqual(payload);
    expect(progress.at(-1)).toBe(payload.length);
    expect(progress.length).toBeGreaterThan(1);
    await downloadToCache('https://example.invalid/data/file.bin', { cacheDir, sha256: sha, fetch: fakeFetch(payload, calls) });
    expect(calls.n).toBe(1);
  });

  it('refuses a checksum mismatch and leaves nothing behind', async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lico-dl-'));
    const calls = { n: 0 };
    await expect(downloadToCache('https://example.invalid/x.bin', { cacheDir, sha256: '0'.repeat(64), fetch: fakeFetch(payload, calls) })).rejects.toThrow(FileFormatError);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('replaces a corrupt cached file', async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lico-dl-'));
    writeFileSync(path.join(cacheDir, 'x.bin'), 'corrupt');
    const calls = { n: 0 };
    const file = await downloadToCache('https://example.invalid/x.bin', { cacheDir, sha256: sha, fetch: fakeFetch(payload, calls) });
    expect(calls.n).toBe(1);
    expect(readFileSync(file).length).toBe(payload.length);
  });

  it('says clearly when it can neither find nor fetch the file', async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lico-dl-'));
    const offline = async (): Promise<Response> => {
      throw new TypeError('fetch failed');
    };
    await expect(downloadToCache('https://example.invalid/y.bin', { cacheDir, fetch: offline })).rejects.toThrow(NotFoundError);
    await expect(downloadToCache('https://example.invalid/y.bin', { cacheDir, fetch: fakeFetch(payload, { n: 0 }, 404) })).rejects.toThrow(/HTTP 404/);
    expect(existsSync(path.join(cacheDir, 'y.bin'))).toBe(false);
  });

  it('honours LICO_CACHE_DIR', () => {
    const old = process.env.LICO_CACHE_DIR;
    process.env.LICO_CACHE_DIR = '/tmp/lico-cache-test';
    expect(defaultCacheDir()).toBe('/tmp/lico-cache-test');
    if (old === undefined) delete process.env.LICO_CACHE_DIR;
    else process.env.LICO_CACHE_DIR = old;
  });
});
