/**
 * Bilinear resampling with half-pixel centres (as `tf.image.resizeBilinear(..., halfPixelCenters
 * = true)` and OpenCV's INTER_LINEAR), on plain arrays. `pick(pixel, channel)` reads the source
 * (pixel = y·sw + x); `emit(index, value)` receives each output value at `(y·dw + x)·channels + c`.
 */
export function bilinearResample(
  pick: (pixel: number, channel: number) => number,
  sh: number,
  sw: number,
  channels: number,
  dh: number,
  dw: number,
  emit: (index: number, value: number) => void,
): void {
  const sy = sh / dh;
  const sx = sw / dw;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const top = pick(y0 * sw + x0, c) * (1 - wx) + pick(y0 * sw + x1, c) * wx;
        const bottom = pick(y1 * sw + x0, c) * (1 - wx) + pick(y1 * sw + x1, c) * wx;
        emit((y * dw + x) * channels + c, top * (1 - wy) + bottom * wy);
      }
    }
  }
}
