#!/usr/bin/env python3
"""Golden for @lico/cam's RISE parity test against the official RISE code (Petsiuk et al. 2018).

The official implementation (`explanations.py` of github.com/eclique/RISE) is not a project
dependency: run it from a checkout beside the project,
  RISE_PATH=/tmp/rise /usr/bin/python3 tools/reference/cam-rise-official.py
It needs scikit-image (Debian python3-skimage) and tqdm; its `.cuda()` calls are made no-ops.

The same torchvision ResNet-18 with the formula state dict as `cam-pytorch-grad-cam.py` (wrapped
in a softmax, as the official notebooks do) explains the same 2 formula images (targets 3 and 7).
The official `generate_masks` makes N = 32 masks (s = 8, p1 = 0.5, numpy seed 0); they are
quantised to k/255 (stored as uint8, base64) and the official `RISE.forward` (sal / N / p1) runs on
the quantised masks, so the JS test can feed it exactly the same masks.
"""
import base64
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
RISE_PATH = os.environ.get('RISE_PATH', '/tmp/rise')
OUT = os.path.join(HERE, '../../packages/cam/src/__golden__/rise-official.json')
N, S, P1 = 32, 8, 0.5


def main():
    torch.set_num_threads(int(os.environ.get('LICO_THREADS', '2')))
    spec = importlib.util.spec_from_file_location('bbw', os.path.join(HERE, 'backbones-torch-weights.py'))
    bbw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bbw)
    torch.Tensor.cuda = lambda self, *a, **k: self  # the official code moves masks to the GPU
    sys.path.insert(0, RISE_PATH)
    import skimage
    from explanations import RISE

    commit = subprocess.run(['git', '-C', RISE_PATH, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip() or 'unknown'

    sys.path.insert(0, HERE)
    from cam_formula_case import SHAPE as shape, TARGETS as targets, formula_case
    model, x = formula_case(bbw)
    explainer = RISE(torch.nn.Sequential(model, torch.nn.Softmax(dim=1)), (64, 64), gpu_batch=16)
    np.random.seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        explainer.generate_masks(N=N, s=S, p1=P1, savepath=os.path.join(tmp, 'masks.npy'))
    codes = np.clip(np.round(explainer.masks.numpy().reshape(N, 64, 64) * 255), 0, 255).astype(np.uint8)
    explainer.masks = torch.from_numpy(codes.astype(np.float32) / 255).reshape(N, 1, 64, 64)
    maps = []
    with torch.no_grad():
        for i, t in enumerate(targets):
            sal = explainer(x[i:i + 1])  # [classes, H, W] = Σ p · M / N / p1
            maps.append(sal[t].numpy())
    golden = {
        'script': 'tools/reference/cam-rise-official.py',
        'versions': {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'numpy': np.__version__,
                     'skimage': skimage.__version__, 'rise_commit': commit},
        'model': 'torchvision resnet18(num_classes=10) + softmax, formula state dict of tools/reference/backbones-torch-weights.py',
        'input_shape_nchw': list(shape),
        'targets': targets,
        'num_masks': N,
        'grid_size': S,
        'keep_probability': P1,
        'masks_uint8_base64': base64.b64encode(codes.tobytes()).decode('ascii'),
        'saliency': [float(f'{np.float32(v):.8g}') for v in np.stack(maps).reshape(-1)],
    }
    with open(OUT, 'w') as f:
        json.dump(golden, f)
        f.write('\n')
    print('wrote', os.path.normpath(OUT), 'saliency range', float(np.min(maps)), float(np.max(maps)))


if __name__ == '__main__':
    main()
