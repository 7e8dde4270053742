import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileFormatError } from '@lico/core';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, MAX_IMAGE_PIXELS } from './decode-image';
import { gunzipCapped, readMaybeGzip } from './read-file';

describe('gunzipCapped / readMaybeGzip', () => {
  it('inflates what the trailer declares; a file inflating beyond it is refused, named, before filling memory', async () => {
    const data = new Uint8Array(1 << 20).map((_, i) => i % 251);
    const gz = new Uint8Array(gzipSync(data));
    expect(Array.from(gunzipCapped(gz, 'ok.gz').subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
    // A bomb: 64 MiB of zeros whose trailer claims 1000 bytes.
    const bomb = new Uint8Array(gzipSync(new Uint8Array(64 << 20)));
    new DataView(bomb.buffer).setUint32(bomb.length - 4, 1000, true);
    const dir = mkdtempSync(join(tmpdir(), 'lico-gz-'));
    writeFileSync(join(dir, 'bomb.gz'), bomb);
    const err = await readMaybeGzip(join(dir, 'bomb.gz')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toMatch(/bomb\.gz: inflates beyond the 1000 bytes its gzip trailer declares/);
    expect(() => gunzipCapped(gz.subarray(0, 30), 'cut.gz')).toThrow(/corrupt or truncated gzip data/);
  });
});

describe('decodeImage: declared sizes are checked before allocation', () => {
  function png(w: number, h: number): Uint8Array {
    const img = new pngjs.PNG({ width: w, height: h });
    return new Uint8Array(pngjs.PNG.sync.write(img));
  }
  it('a PNG header declaring 20000×20000 is refused naming the size and the limit', () => {
    const bytes = png(2, 2);
    const view = new DataView(bytes.buffer);
    view.setUint32(16, 20000);
    view.setUint32(20, 20000);
    const before = process.memoryUsage().rss;
    expect(() => decodeImage(bytes, 'huge.png')).toThrow(`huge.png: its PNG header declares 20000×20000 pixels, more than the limit of ${MAX_IMAGE_PIXELS}`);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 << 20);
    expect(decodeImage(png(3, 2), 'small.png')).toMatchObject({ width: 3, height: 2 });
  });
  it('a JPEG larger than the limit is refused by the decoder with a named error', () => {
    const small = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4) }, 90).data;
    const bytes = new Uint8Array(small);
    // SOF0 marker: FF C0, length (2), precision (1), height (2), width (2).
    const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
    const view = new DataView(bytes.buffer);
    view.setUint16(sof + 5, 20000);
    view.setUint16(sof + 7, 20000);
    expect(() => decodeImage(bytes, 'huge.jpg')).toThrow(/huge\.jpg: cannot decode the JPEG image \(.*maxResolutionInMP/);
  });
});
