/**
 * Per-dataset normalisation constants (mean/std per channel in [0,1] pixel units). Batches
 * deliver `(pixel/255 - mean) / std`.
 */

/** Mean and standard deviation per channel, in [0,1] pixel units. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Fashion-MNIST training-set statistics. */
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.286], std: [0.353] };
/** MNIST training-set statistics. */
export const MNIST_NORMALIZATION: Normalization = { mean: [0.1307], std: [0.3081] };
/** CIFAR-10 training-set statistics. */
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
/** CIFAR-100 training-set statistics. */
export const CIFAR100_NORMALIZATION: Normalization = { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] };
/** SVHN training-set statistics. */
export const SVHN_NORMALIZATION: Normalization = { mean: [0.4377, 0.4438, 0.4728], std: [0.198, 0.201, 0.197] };
/** ImageNet statistics (default for image folders with 3 channels). */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * A lookup table `lut[c*256 + v] = (v/255 - mean[c]) / std[c]` for fast uint8 → float
 * normalisation.
 */
export function normalizationTable(norm: Normalization, channels: number): Float32Array {
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const m = norm.mean[c % norm.mean.length]!;
    const s = norm.std[c % norm.std.length]!;
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - m) / s;
  }
  return lut;
}

/** Maps a normalised value back to [0,1] pixel units for channel `c`. */
export function denormalize(value: number, norm: Normalization, c = 0): number {
  return value * norm.std[c % norm.std.length]! + norm.mean[c % norm.mean.length]!;
}

/** Maps a [0,1] pixel value to normalised space for channel `c` (so `normalize(0)` is black). */
export function normalize(value: number, norm: Normalization, c = 0): number {
  return (value - norm.mean[c % norm.mean.length]!) / norm.std[c % norm.std.length]!;
}
