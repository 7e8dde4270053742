"""Writes tiny SVHN-format MATLAB v5 files for @lico/datasets tests with scipy.io.savemat.

X is [32,32,3,N] uint8 with X[r,c,ch,n] = (r*7 + c*3 + ch*50 + n*11) % 256, y is [N,1] float64
(label 10 means digit 0), as in the official train_32x32.mat.
Run: python3 tools/reference/svhn-mat-fixtures.py (needs scipy; Debian's /usr/bin/python3 has none here,
so the committed fixtures were made with the pyenv Python 3.11.7 + scipy 1.17.1 on the dev machine).
"""
import json
import os

import numpy as np
import scipy
import scipy.io

out = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'datasets', 'src', '__fixtures__')
os.makedirs(out, exist_ok=True)
n = 3
r, c, ch, k = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), np.arange(n), indexing='ij')
X = ((r * 7 + c * 3 + ch * 50 + k * 11) % 256).astype(np.uint8)
y = np.array([[10.0], [1.0], [5.0]])
scipy.io.savemat(os.path.join(out, 'svhn-tiny.mat'), {'X': X, 'y': y}, do_compression=False, format='5')
scipy.io.savemat(os.path.join(out, 'svhn-tiny-compressed.mat'), {'X': X, 'y': y.astype(np.uint8)}, do_compression=True, format='5')
# A bad file: 3 images but 2 labels.
scipy.io.savemat(os.path.join(out, 'svhn-mismatch.mat'), {'X': X, 'y': y[:2]}, do_compression=True, format='5')
# Reference values the tests check: pixel (r=2,c=5,ch=1) of image 2 and the labels.
ref = {
    'script': 'tools/reference/svhn-mat-fixtures.py',
    'versions': {'numpy': np.__version__, 'scipy': scipy.__version__},
    'shape': list(X.shape),
    'pixel_r2_c5_ch1_n2': int(X[2, 5, 1, 2]),
    'labels_raw': y[:, 0].tolist(),
    'sum_X': int(X.astype(np.int64).sum()),
}
with open(os.path.join(out, 'svhn-tiny.json'), 'w') as f:
    json.dump(ref, f, indent=1)
print(ref)
