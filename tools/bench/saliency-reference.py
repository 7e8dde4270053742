#!/usr/bin/env python3
"""Reference for tools/bench/saliency.mjs: the same saliency work in PyTorch on the CPU, same thread
count. WRN-28-2 (FixMatch variant, from tools/reference/backbones-torch-weights.py) at 32x32,
10 classes, inference mode. Grad-CAM, Grad-CAM++, XGrad-CAM, Layer-CAM, Eigen-CAM and Score-CAM are
pytorch-grad-cam's classes (target layer: the final LeakyReLU, the feature map); RISE and
insertion/deletion (no pytorch-grad-cam equivalent) are a direct PyTorch port of the official RISE
code with the same settings as the JS side (masks built and evaluated in batches).

pytorch-grad-cam is run from a checkout (PGC_PATH, default /tmp/pgc); missing ttach/tqdm/
matplotlib/sklearn imports are stubbed as in tools/reference/cam-pytorch-grad-cam.py. Without it,
the CAM methods are reported as null.

usage: saliency-reference.py --threads T --images N --rise-masks M --rise-batch B --score-batch S --step P
Prints one JSON line: {"torch", "threads", "methods": {name: images/s}}.
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--images', type=int, default=8)
    ap.add_argument('--rise-masks', type=int, default=500)
    ap.add_argument('--rise-batch', type=int, default=100)
    ap.add_argument('--score-batch', type=int, default=32)
    ap.add_argument('--step', type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.join(HERE, 'lib'))
    from torch_env import reference_env  # tools/bench/lib/torch_env.py
    env = reference_env()
    bbw = load_module('bbw', os.path.join(HERE, '..', 'reference', 'backbones-torch-weights.py'))
    golden = load_module('camgolden', os.path.join(HERE, '..', 'reference', 'cam-pytorch-grad-cam.py'))

    class Net(bbw.WideResNet):
        def forward(self, x):
            return self.fc(self.features(x).mean(dim=(2, 3)))

    model = Net(10)
    bbw.fill_formula(model)
    model.eval()
    n = args.images
    x = bbw.formula_input((n, 3, 32, 32))
    with torch.no_grad():
        targets = model(x).argmax(1).tolist()
    methods = {}
    log = lambda *a: print('[saliency-reference]', *a, file=sys.stderr)

    def timed(name, fn):
        fn(x[:1], targets[:1])  # warm-up
        t0 = time.perf_counter()
        fn(x, targets)
        dt = time.perf_counter() - t0
        methods[name] = n / dt
        log(f'{name}: {n / dt:.2f} images/s')

    try:
        golden.install_stubs()
        sys.path.insert(0, os.environ.get('PGC_PATH', '/tmp/pgc'))
        from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, LayerCAM, ScoreCAM, XGradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
        for name, cls in [('gradCam', GradCAM), ('gradCamPlusPlus', GradCAMPlusPlus), ('xGradCam', XGradCAM), ('layerCam', LayerCAM), ('eigenCam', EigenCAM), ('scoreCam', ScoreCAM)]:
            cam = cls(model=model, target_layers=[model.relu])
            cam.batch_size = args.score_batch

            def run(xs, ts, cam=cam):
                return cam(input_tensor=xs, targets=[ClassifierOutputTarget(t) for t in ts])
            timed(name, run)
            del cam
    except ImportError as e:
        log(f'pytorch-grad-cam unavailable ({e}); CAM references skipped')

    # RISE (official generate_masks + forward, batched; softmax probability of the target).
    s, p1, H = 8, 0.5, 32
    cell = math.ceil(H / s)
    up = (s + 1) * cell
    rng = np.random.default_rng(0)

    def rise(xs, ts):
        grid = (rng.random((args.rise_masks, 1, s, s)) < p1).astype(np.float32)
        sal = torch.zeros(xs.shape[0], H, H)
        with torch.no_grad():
            for b0 in range(0, args.rise_masks, args.rise_batch):
                g = torch.from_numpy(grid[b0:b0 + args.rise_batch])
                ups = F.interpolate(g, size=(up, up), mode='bilinear', align_corners=False)
                masks = torch.stack([ups[i, :, dy:dy + H, dx:dx + H] for i, (dy, dx) in enumerate(rng.integers(0, cell, (g.shape[0], 2)))])
                for i in range(xs.shape[0]):
                    prob = torch.softmax(model(xs[i:i + 1] * masks), dim=1)[:, ts[i]]
                    sal[i] += (prob[:, None, None] * masks[:, 0]).sum(0)
        return sal / args.rise_masks / p1
    timed('rise', rise)

    # Insertion + deletion (official CausalMetric; steps batched like the JS side, batch 64).
    klen, nsig = 11, 5
    from scipy.ndimage import gaussian_filter
    inp = np.zeros((klen, klen)); inp[klen // 2, klen // 2] = 1
    k = torch.from_numpy(gaussian_filter(inp, nsig).astype(np.float32))
    kern = torch.zeros(3, 1, klen, klen); kern[:, 0] = k
    sal_maps = torch.rand(n, H * H, generator=torch.Generator().manual_seed(0))

    def ins_del(xs, ts):
        hw = H * H
        n_steps = (hw + args.step - 1) // args.step
        out = []
        with torch.no_grad():
            blurred = F.conv2d(xs, kern, padding=klen // 2, groups=3)
            for start_all, finish_all in [(xs, torch.zeros_like(xs)), (blurred, xs)]:
                for i in range(xs.shape[0]):
                    order = torch.flip(torch.argsort(sal_maps[i]), [0])
                    rank = torch.empty(hw, dtype=torch.long); rank[order] = torch.arange(hw)
                    thr = torch.clamp(torch.arange(n_steps + 1) * args.step, max=hw)
                    for b0 in range(0, n_steps + 1, 64):
                        m = (rank[None, :] < thr[b0:b0 + 64, None]).float().view(-1, 1, H, H)
                        canvas = start_all[i:i + 1] * (1 - m) + finish_all[i:i + 1] * m
                        out.append(torch.softmax(model(canvas), 1)[:, ts[i]])
        return out
    timed('insertionDeletion', ins_del)
    print(json.dumps({'torch': torch.__version__, 'threads': args.threads, 'methods': methods, 'env': env}))


if __name__ == '__main__':
    main()
