/**
 * The rank of every pixel when pixels are taken in descending saliency: `rank[p] = position of p`.
 * Ties go to the higher flat index first (as `np.flip(np.argsort(s, kind='stable'))`, the RISE code).
 */
export function saliencyRanks(saliency: ArrayLike<number>): Int32Array {
  const n = saliency.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => saliency[b]! - saliency[a]! || b - a);
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]!] = r;
  return rank;
}
