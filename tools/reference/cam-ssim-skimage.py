#!/usr/bin/env python3
"""Golden for @lico/cam's `ssim` (the randomisation check's structural similarity) against
scikit-image, called the way Quantus' `similarity_func.ssim` calls it:

  data_range = |max(concat(a, b)) - min(concat(a, b))|
  skimage.metrics.structural_similarity(im1=a, im2=b, win_size=None, data_range=data_range)

(win_size None = skimage's default 7; an explicit win_size for one small case.) scikit-image is
Debian's python3-skimage (Quantus' own metrics run from a checkout in cam-captum-quantus.py):
  /usr/bin/python3 tools/reference/cam-ssim-skimage.py
Map pairs are made from numpy's seeded generator and stored in the output (float64).
"""
import json
import os

import numpy as np
import skimage
from skimage.metrics import structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'packages', 'cam', 'src', '__golden__', 'ssim-skimage.json')


def quantus_ssim(a, b, win_size=None):
    data_range = float(np.abs(np.max(np.concatenate([a, b])) - np.min(np.concatenate([a, b]))))
    return float(structural_similarity(im1=a, im2=b, win_size=win_size, data_range=data_range))


def main():
    rng = np.random.default_rng(0)
    cases = []

    def add(name, a, b, win_size=None):
        cases.append({'name': name, 'height': a.shape[0], 'width': a.shape[1], 'win_size': win_size,
                      'a': a.reshape(-1).tolist(), 'b': b.reshape(-1).tolist(), 'ssim': quantus_ssim(a, b, win_size)})

    add('7x7 uniform pair (one window)', rng.random((7, 7)), rng.random((7, 7)))
    add('12x10 uniform pair', rng.random((12, 10)), rng.random((12, 10)))
    yy, xx = np.mgrid[0:32, 0:32]
    smooth = np.exp(-((yy - 12.0) ** 2 + (xx - 20.0) ** 2) / 60.0)
    add('32x32 blob and a noisy copy', smooth, np.clip(smooth + 0.1 * rng.standard_normal((32, 32)), 0, None))
    add('32x32 blob and a shifted blob', smooth, np.exp(-((yy - 18.0) ** 2 + (xx - 9.0) ** 2) / 60.0))
    add('32x32 blob and itself', smooth, smooth.copy())
    add('5x5 pair with win_size 5', rng.random((5, 5)), rng.random((5, 5)), 5)
    with open(OUT, 'w') as f:
        json.dump({'script': 'tools/reference/cam-ssim-skimage.py', 'versions': {'skimage': skimage.__version__, 'numpy': np.__version__},
                   'call': 'structural_similarity(im1=a, im2=b, win_size=win_size, data_range=|max(a,b) - min(a,b)|), as quantus similarity_func.ssim',
                   'cases': cases}, f)
        f.write('\n')
    print('wrote', OUT, [round(c['ssim'], 6) for c in cases])


if __name__ == '__main__':
    main()
