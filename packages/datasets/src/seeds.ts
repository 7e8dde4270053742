import { createRng, type Rng } from '@lico/core';

/** Mixes integers into one 32-bit seed (murmur3-style finaliser), order-sensitive. */
export function mixSeeds(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const raw of values) {
    const lo = raw >>> 0;
    const hi = Math.floor(raw / 4294967296) >>> 0;
    for (const v of [lo, hi]) {
      let k = Math.imul(v, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A generator that depends only on the given integers (e.g. seed, epoch, batch index). */
export function derivedRng(...values: number[]): Rng {
  return createRng(mixSeeds(...values));
}
