#!/usr/bin/env python3
"""Goldens for @lico/cam's parity tests against pytorch-grad-cam.

A torchvision ResNet-18 (10 classes) gets the deterministic formula state dict of
`tools/reference/backbones-torch-weights.py` (imported, so the JS test rebuilds the same weights
with `formulaStateDict` of @lico/testing) and explains the formula input (2 images, 3x64x64) with
pytorch-grad-cam's GradCAM, GradCAMPlusPlus, XGradCAM, LayerCAM, ScoreCAM, HiResCAM, GradCAMElementWise,
AblationCAM (batch_size 32), EigenCAM and EigenGradCAM (their SVD projection's arbitrary sign aligned
by @lico/cam's documented rule) on `layer4[-1]` (and GradCAM, HiResCAM, EigenGradCAM, AblationCAM on
`layer3[-1]`), targets ClassifierOutputTarget([3, 7]). Maps are stored strided
(every 5th flat element of the [2,64,64] map). ROAD (`metrics/road.py`) with the imputer's noise set
to 0, on the GradCAM layer3 maps rounded to 6 decimals (stored whole, so the JS test uses the same
maps): MoRF/LeRF per percentile 10..90, their averages, ROADCombined, two imputed images (strided,
NCHW) and the NoisyLinearImputer on a 5x4 case. Also: cv2.resize (INTER_LINEAR) of a small map, the
upsampling convention the interpreters claim, and scipy's gaussian_filter of an 11x11 dirac
(sigma 5), the official RISE insertion blur.

pytorch-grad-cam is not a project dependency: run it from a checkout beside the project,
  PGC_PATH=/tmp/pgc /usr/bin/python3 tools/reference/cam-pytorch-grad-cam.py
(git --work-tree=/tmp/pgc checkout of github.com/jacobgil/pytorch-grad-cam). It needs cv2 and scipy
(Debian python3-opencv, python3-scipy). Its module-level imports of ttach, tqdm, matplotlib and
sklearn are not used by these methods; when missing they are replaced by empty stubs written to a
temporary directory (recorded in the output).
"""
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
OUT = os.path.join(HERE, '..', '..', 'packages', 'cam', 'src', '__golden__', 'pytorch-grad-cam.json')
PGC = os.environ.get('PGC_PATH', '/tmp/pgc')
STRIDE = 5

STUBS = {
    'ttach.py': 'class Compose(list):\n    def __init__(self, t): super().__init__(t)\nclass HorizontalFlip: pass\nclass Multiply:\n    def __init__(self, factors): pass\n',
    'tqdm.py': 'def tqdm(x, *a, **k): return x\n',
    'matplotlib/__init__.py': '', 'matplotlib/pyplot.py': '', 'matplotlib/lines.py': 'class Line2D: pass\n',
    'sklearn/__init__.py': '', 'sklearn/decomposition.py': 'class KernelPCA: pass\nclass NMF: pass\n',
}


def install_stubs():
    stubbed = []
    d = tempfile.mkdtemp(prefix='pgc-stubs-')
    for mod in ['ttach', 'tqdm', 'matplotlib', 'sklearn']:
        try:
            __import__(mod)
        except ImportError:
            stubbed.append(mod)
            for path, text in STUBS.items():
                if path.split('/')[0].replace('.py', '') == mod:
                    os.makedirs(os.path.dirname(os.path.join(d, path)), exist_ok=True)
                    with open(os.path.join(d, path), 'w') as f:
                        f.write(text)
    sys.path.insert(0, d)
    return stubbed


def main():
    torch.set_num_threads(int(os.environ.get('LICO_THREADS', '2')))
    spec = importlib.util.spec_from_file_location('bbw', os.path.join(HERE, 'backbones-torch-weights.py'))
    bbw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bbw)
    stubbed = install_stubs()
    sys.path.insert(0, PGC)
    import cv2
    import scipy
    from scipy.ndimage import gaussian_filter
    from pytorch_grad_cam import (AblationCAM, EigenCAM, EigenGradCAM, GradCAM, GradCAMElementWise, GradCAMPlusPlus,
                                  HiResCAM, LayerCAM, ScoreCAM, XGradCAM)
    import pytorch_grad_cam.eigen_cam as eigen_cam_module
    import pytorch_grad_cam.eigen_grad_cam as eigen_grad_cam_module
    import pytorch_grad_cam.metrics.road as road

    # EigenCAM: pytorch-grad-cam's get_2d_projection (centred SVD, first right singular vector)
    # has an arbitrary sign. @lico/cam documents its own rule (flip so that the projection
    # correlates non-negatively with the channel-summed activation); apply that rule to the
    # reference's projection, keep everything else (ReLU, cv2 upsampling, normalisation) theirs.
    svd_projection = eigen_cam_module.get_2d_projection

    def sign_aligned_projection(activation_batch):
        projections = svd_projection(activation_batch)
        for i, activations in enumerate(activation_batch):
            if float((projections[i] * activations.sum(axis=0)).sum()) < 0:
                projections[i] = -projections[i]
        return projections

    eigen_cam_module.get_2d_projection = sign_aligned_projection
    # EigenGradCAM imported the function into its own namespace: the same rule, on grads * activations.
    eigen_grad_cam_module.get_2d_projection = sign_aligned_projection
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    try:
        commit = subprocess.run(['git', '-C', PGC, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
    except Exception:
        commit = ''
    commit = commit or os.environ.get('PGC_COMMIT', 'unknown')

    sys.path.insert(0, HERE)
    from cam_formula_case import SHAPE as shape, TARGETS as targets, formula_case
    model, x = formula_case(bbw)
    with torch.no_grad():
        logits = model(x)
    maps = {}
    for name, cls, layer in [
        ('gradCam', GradCAM, model.layer4[-1]),
        ('gradCamPlusPlus', GradCAMPlusPlus, model.layer4[-1]),
        ('xGradCam', XGradCAM, model.layer4[-1]),
        ('layerCam', LayerCAM, model.layer4[-1]),
        ('scoreCam', ScoreCAM, model.layer4[-1]),
        ('gradCamLayer3', GradCAM, model.layer3[-1]),
        ('eigenCamSignAligned', EigenCAM, model.layer4[-1]),
        ('hiResCam', HiResCAM, model.layer4[-1]),
        ('gradCamElementWise', GradCAMElementWise, model.layer4[-1]),
        ('hiResCamLayer3', HiResCAM, model.layer3[-1]),
        ('eigenGradCamSignAligned', EigenGradCAM, model.layer4[-1]),
        ('eigenGradCamSignAlignedLayer3', EigenGradCAM, model.layer3[-1]),
        ('ablationCam', AblationCAM, model.layer4[-1]),
        ('ablationCamLayer3', AblationCAM, model.layer3[-1]),
    ]:
        cam = cls(model=model, target_layers=[layer])
        cam.batch_size = 32
        out = cam(input_tensor=x, targets=[ClassifierOutputTarget(t) for t in targets])
        maps[name] = [round(float(v), 6) for v in out.reshape(-1)[::STRIDE]]
        del cam

    # ROAD with noise 0 on the GradCAM layer3 maps (rounded to 6 decimals; both sides use the rounded values).
    road.NoisyLinearImputer.__init__.__defaults__ = (0.0, road.neighbors_weights)
    road_cams = GradCAM(model=model, target_layers=[model.layer3[-1]])(
        input_tensor=x, targets=[ClassifierOutputTarget(t) for t in targets])
    road_cams = np.float32(np.round(road_cams.astype(np.float64), 6))
    cam_targets = [ClassifierOutputTarget(t) for t in targets]
    percentiles = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    road_out = {'percentiles': percentiles, 'noise': 0.0, 'cam_source': 'GradCAM layer3[-1], rounded to 6 decimals',
                'cams': [round(float(v), 6) for v in road_cams.reshape(-1)], 'morf': {}, 'lerf': {}}
    for p in percentiles:
        road_out['morf'][str(p)] = [float(v) for v in road.ROADMostRelevantFirst(p)(x, road_cams, cam_targets, model)]
        road_out['lerf'][str(p)] = [float(v) for v in road.ROADLeastRelevantFirst(p)(x, road_cams, cam_targets, model)]
    road_out['morf_average'] = [float(v) for v in road.ROADMostRelevantFirstAverage(percentiles)(x, road_cams, cam_targets, model)]
    road_out['lerf_average'] = [float(v) for v in road.ROADLeastRelevantFirstAverage(percentiles)(x, road_cams, cam_targets, model)]
    road_out['combined'] = [float(v) for v in road.ROADCombined(percentiles)(x, road_cams, cam_targets, model)]
    imputer = road.NoisyLinearImputer(noise=0.0)
    imputed = {}
    for key, remover in [('morf_50', road.RemoveMostRelevantFirst(50, imputer)), ('lerf_30', road.RemoveLeastRelevantFirst(30, imputer))]:
        images = [remover(x[i], torch.from_numpy(road_cams[i])).numpy() for i in range(x.shape[0])]
        imputed[key] = [round(float(v), 6) for v in np.stack(images).reshape(-1)[::STRIDE]]  # NCHW, strided
    road_out['imputed_nchw_strided'] = imputed
    tiny_img = np.arange(20, dtype=np.float32).reshape(1, 5, 4) ** 1.5 / 10
    tiny_mask = np.ones((5, 4), dtype=np.float32)
    for r, c in [(0, 0), (1, 1), (1, 2), (2, 1), (2, 2), (4, 3), (3, 0)]:
        tiny_mask[r, c] = 0
    tiny_out = imputer(torch.from_numpy(tiny_img), torch.from_numpy(tiny_mask))
    road_out['tiny'] = {'image': [float(v) for v in tiny_img.reshape(-1)], 'mask': [float(v) for v in tiny_mask.reshape(-1)],
                        'imputed': [float(v) for v in tiny_out.numpy().reshape(-1)]}

    small = np.array([[0.1, 0.9, 0.4], [0.7, 0.2, 1.0]], dtype=np.float32)
    resized = cv2.resize(small, (7, 5))  # dsize = (width, height), INTER_LINEAR
    dirac = np.zeros((11, 11))
    dirac[5, 5] = 1
    gkern = gaussian_filter(dirac, 5)

    golden = {
        'script': 'tools/reference/cam-pytorch-grad-cam.py',
        'versions': {
            'torch': torch.__version__, 'torchvision': torchvision.__version__, 'numpy': np.__version__,
            'opencv': cv2.__version__, 'scipy': scipy.__version__, 'pytorch_grad_cam_commit': commit,
        },
        'stubbed_imports': stubbed,
        'model': 'torchvision resnet18(num_classes=10), formula state dict of tools/reference/backbones-torch-weights.py',
        'input_shape_nchw': list(shape),
        'targets': targets,
        'logits': [round(float(v), 6) for v in logits.reshape(-1)],
        'stride': STRIDE,
        'maps': maps,
        'cv2_resize': {'input': small.tolist(), 'width': 7, 'height': 5, 'output': [round(float(v), 7) for v in resized.reshape(-1)]},
        'rise_gkern_11_5': [round(float(v), 9) for v in gkern.reshape(-1)],
        'road': road_out,
    }
    with open(OUT, 'w') as f:
        json.dump(golden, f)
        f.write('\n')
    print('wrote', os.path.normpath(OUT), {k: len(v) for k, v in maps.items()})


if __name__ == '__main__':
    main()
