import { UnknownNameError } from '@lico/core';

/** A colour map name. */
export type ColormapName = 'jet' | 'viridis';

/** Valid colour map names. */
export const COLORMAPS: readonly ColormapName[] = ['jet', 'viridis'];

type Segments = readonly (readonly [number, number])[];

// matplotlib's `_jet_data` (piecewise linear per channel).
const JET: readonly [Segments, Segments, Segments] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

// matplotlib's viridis (van der Walt & Smith, CC0): entries 0, 8, …, 248 and 255 of its 256-entry table.
const VIRIDIS_INDEX = [...Array.from({ length: 32 }, (_, i) => i * 8), 255];
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [0.267004, 0.004874, 0.329415], [0.277018, 0.050344, 0.375715], [0.282327, 0.094955, 0.417331], [0.282884, 0.13592, 0.453427],
  [0.278826, 0.17549, 0.483397], [0.270595, 0.214069, 0.507052], [0.258965, 0.251537, 0.524736], [0.244972, 0.287675, 0.53726],
  [0.229739, 0.322361, 0.545706], [0.214298, 0.355619, 0.551184], [0.19943, 0.387607, 0.554642], [0.185556, 0.41857, 0.556753],
  [0.172719, 0.448791, 0.557885], [0.160665, 0.47854, 0.558115], [0.149039, 0.508051, 0.55725], [0.13777, 0.537492, 0.554906],
  [0.127568, 0.566949, 0.550556], [0.120565, 0.596422, 0.543611], [0.120638, 0.625828, 0.533488], [0.132268, 0.655014, 0.519661],
  [0.157851, 0.683765, 0.501686], [0.196571, 0.711827, 0.479221], [0.24607, 0.73891, 0.452024], [0.304148, 0.764704, 0.419943],
  [0.369214, 0.788888, 0.382914], [0.440137, 0.811138, 0.340967], [0.515992, 0.831158, 0.294279], [0.595839, 0.848717, 0.243329],
  [0.678489, 0.863742, 0.189503], [0.762373, 0.876424, 0.137064], [0.845561, 0.887322, 0.099702], [0.926106, 0.89733, 0.104071],
  [0.993248, 0.906157, 0.143936],
];

function segment(points: Segments, t: number): number {
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x0, y0] = points[i - 1]!;
    if (t <= x1) return y0 + ((t - x0) / (x1 - x0)) * (y1 - y0);
  }
  return points[points.length - 1]![1];
}

/**
 * The RGB colour (components in [0,1]) of value `t` (clamped to [0,1]; NaN → 0) under a colour map:
 * matplotlib's `jet` (exact piecewise-linear definition) or `viridis` (linear between 33 of its 256
 * entries, within 0.002 of the full table).
 */
export function colormap(name: ColormapName, t: number): [number, number, number] {
  const v = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t));
  if (name === 'jet') return [segment(JET[0], v), segment(JET[1], v), segment(JET[2], v)];
  if (name === 'viridis') {
    const x = v * 255;
    let i = 1;
    while (i < VIRIDIS_INDEX.length - 1 && VIRIDIS_INDEX[i]! < x) i++;
    const x0 = VIRIDIS_INDEX[i - 1]!;
    const f = (x - x0) / (VIRIDIS_INDEX[i]! - x0);
    const a = VIRIDIS[i - 1]!;
    const b = VIRIDIS[i]!;
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }
  throw new UnknownNameError('colormap', name, COLORMAPS);
}
