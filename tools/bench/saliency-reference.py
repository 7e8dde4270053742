#!/usr/bin/env python3
"""Reference for tools/bench/saliency.mjs: the same saliency work in PyTorch on the CPU, same thread
count. WRN-28-2 (FixMatch variant, from tools/reference/backbones-torch-weights.py) at 32x32,
10 classes, inference mode. Every row is the library a practitioner would reach for, run from a
checkout beside the project (never copied into it):

- pytorch-grad-cam (PGC_PATH, default /tmp/pgc): GradCAM, GradCAMPlusPlus, XGradCAM, LayerCAM,
  EigenCAM, ScoreCAM, HiResCAM, GradCAMElementWise, EigenGradCAM, AblationCAM, FullGrad (target layer: the
  final LeakyReLU, the feature map; ScoreCAM/AblationCAM `batch_size` as ours) and ROAD
  (`metrics/road.py`: ROADMostRelevantFirst/LeastRelevantFirst at our percentiles through
  ROADCombined, its NoisyLinearImputer with its default noise). Needs cv2 and scipy (Debian
  python3-opencv, python3-scipy); missing ttach/tqdm/matplotlib/sklearn imports are stubbed as in
  tools/reference/cam-pytorch-grad-cam.py.
- Captum (CAPTUM_PATH, default /tmp/captum): Saliency, IntegratedGradients, NoiseTunnel(Saliency)
  ('smoothgrad') and Occlusion with our settings (steps, method, samples, sigma, window, stride,
  rows per forward pass). A missing `tqdm` is stubbed.
- Quantus (QUANTUS_PATH, default /tmp/quantus): Sparseness and MaxSensitivity (its explain_func:
  Captum's Saliency reduced as our `gradient`). Its module-level imports need Debian python3-pandas,
  python3-sklearn, python3-skimage, python3-opencv, python3-matplotlib, python3-tqdm.
- RISE and insertion/deletion (no library equivalent): a direct PyTorch port of the official RISE
  code with the same settings as the JS side (masks built and evaluated in batches).

A library that does not import leaves its rows null, with the reason in `missing`.

usage: saliency-reference.py --threads T --images N --settings JSON
(JSON: the `settings` object of saliency.mjs's output.)
Prints one JSON line: {"torch", "threads", "methods": {name: images/s}, "implementations": {name: what
ran}, "missing": {name: reason}, "libraries": {name: {path, version, commit}}, "env"}.
"""
import argparse
import functools
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
import types

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PGC_ROWS = ['gradCam', 'gradCamPlusPlus', 'xGradCam', 'layerCam', 'eigenCam', 'scoreCam', 'hiResCam', 'gradCamElementWise', 'eigenGradCam', 'ablationCam', 'fullGrad', 'road']
CAPTUM_ROWS = ['gradient', 'integratedGradients', 'smoothGrad', 'occlusion']
QUANTUS_ROWS = ['sparseness', 'maxSensitivity']


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def library_info(env_name, default, module=None):
    """Where a library ran from, its version and commit (`git rev-parse HEAD` of the checkout, else
    the env var <NAME>_COMMIT for a `git archive` extraction, else None)."""
    path = os.environ.get(f'{env_name}_PATH', default)
    try:
        commit = subprocess.run(['git', '-C', path, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
    except Exception:
        commit = ''
    return {'path': path, 'version': getattr(module, '__version__', None), 'commit': commit or os.environ.get(f'{env_name}_COMMIT')}


def stub_tqdm_auto():
    """Captum and Quantus import `tqdm.auto`; without Debian's python3-tqdm (or with the plain
    `tqdm.py` stub of the pytorch-grad-cam script) give them a pass-through."""
    try:
        import tqdm.auto  # noqa: F401
    except ImportError:
        auto = types.ModuleType('tqdm.auto')
        auto.tqdm = lambda iterable=None, *a, **k: iterable
        sys.modules['tqdm.auto'] = auto


def quiet_tqdm():
    """pytorch-grad-cam's ScoreCAM/AblationCAM wrap their loops in `tqdm.tqdm`: no progress bars
    (ours draws none), the loops unchanged."""
    try:
        import tqdm
        if isinstance(tqdm.tqdm, type):
            tqdm.tqdm = functools.partial(tqdm.tqdm, disable=True)
    except ImportError:
        pass


def normalized(maps):
    """Per-image min-max `(m - min)/(max - min + 1e-7)` of [N,H,W] maps, as @lico/cam's interpreters."""
    flat = maps.reshape(maps.shape[0], -1)
    lo = flat.min(1, keepdim=True)[0]
    hi = flat.max(1, keepdim=True)[0]
    return ((flat - lo) / (hi - lo + 1e-7)).view_as(maps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--images', type=int, default=8)
    ap.add_argument('--settings', required=True, help="saliency.mjs's settings object as JSON")
    args = ap.parse_args()
    S = json.loads(args.settings)
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
    H = 32
    x = bbw.formula_input((n, 3, H, H))
    with torch.no_grad():
        targets = model(x).argmax(1).tolist()
    # Saliency maps the metrics judge (uniform noise, as the JS side's; same shape, own draws).
    sal_maps = torch.rand(n, H * H, generator=torch.Generator().manual_seed(0))
    methods, implementations, missing, libraries = {}, {}, {}, {}
    log = lambda *a: print('[saliency-reference]', *a, file=sys.stderr)

    min_seconds = float(S.get('minSeconds', 0))

    def timed(name, implementation, fn):
        """Times fn(xs, targets, count) on all images after one untimed call on all images (the
        row's own batch sizes: oneDNN's primitives for them are made then; glibc's allocator is
        set by the caller, tools/bench/lib/machine.mjs referenceEnv), repeated until
        S['minSeconds'] have passed (at least once), as saliency.mjs does; a library call that
        fails (e.g. another version's API) leaves the row null with the error in `missing`."""
        if S.get('rows') and name not in S['rows']:
            return  # not selected (--rows)
        implementations[name] = implementation
        try:
            fn(x, targets, n)  # warm-up, full-size
            reps = 0
            t0 = time.perf_counter()
            while True:
                fn(x, targets, n)
                reps += 1
                dt = time.perf_counter() - t0
                if dt >= min_seconds:
                    break
        except Exception as e:  # noqa: BLE001 - any library failure is reported, the other rows still run
            missing[name] = f'{implementation} failed: {e!r}'
            log(f'{name}: reference failed ({e!r})')
            return
        methods[name] = n * reps / dt
        log(f'{name}: {n * reps / dt:.2f} images/s ({reps} calls)')

    def unavailable(rows, why):
        for name in rows:
            missing[name] = why
        log(f'{", ".join(rows)}: reference skipped ({why})')

    # ---- pytorch-grad-cam ----
    try:
        golden.install_stubs()
        sys.path.insert(0, os.environ.get('PGC_PATH', '/tmp/pgc'))
        quiet_tqdm()
        import pytorch_grad_cam as pgc
        import pytorch_grad_cam.metrics.road as road
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError as e:
        unavailable(PGC_ROWS, f'pytorch-grad-cam does not import: {e}')
    else:
        libraries['pytorch-grad-cam'] = library_info('PGC', '/tmp/pgc')
        batch_sizes = {'scoreCam': S['scoreBatch'], 'ablationCam': S['ablationBatch']}
        for name, cls in [('gradCam', pgc.GradCAM), ('gradCamPlusPlus', pgc.GradCAMPlusPlus), ('xGradCam', pgc.XGradCAM),
                          ('layerCam', pgc.LayerCAM), ('eigenCam', pgc.EigenCAM), ('scoreCam', pgc.ScoreCAM),
                          ('hiResCam', pgc.HiResCAM), ('gradCamElementWise', pgc.GradCAMElementWise),
                          ('eigenGradCam', pgc.EigenGradCAM), ('ablationCam', pgc.AblationCAM)]:
            cam = cls(model=model, target_layers=[model.relu])
            cam.batch_size = batch_sizes.get(name, S['scoreBatch'])
            what = f'pytorch_grad_cam.{cls.__name__}' + (f'(batch_size={cam.batch_size})' if name in batch_sizes else '')

            def run(xs, ts, _, cam=cam):
                return cam(input_tensor=xs, targets=[ClassifierOutputTarget(t) for t in ts])
            timed(name, what, run)
            del cam
        # FullGrad (all biased layers; target_layers is ignored). On this WRN it fails its own check of
        # one gradient per biased layer: the bn1 of the first block of stages 2 and 3 runs but its
        # output is unused, so no gradient reaches it (53 layers, 51 gradients); the row then stays
        # null with that error in `missing`.
        fullgrad = pgc.FullGrad(model=model, target_layers=[])

        def run_fullgrad(xs, ts, _):
            return fullgrad(input_tensor=xs, targets=[ClassifierOutputTarget(t) for t in ts])
        timed('fullGrad', 'pytorch_grad_cam.FullGrad', run_fullgrad)
        fullgrad.activations_and_grads.release()
        del fullgrad
        percentiles = S['roadPercentiles']
        road.NoisyLinearImputer.__init__.__defaults__ = (S['roadNoise'], road.neighbors_weights)
        combined = road.ROADCombined(percentiles=percentiles)
        road_maps = sal_maps.view(n, H, H).numpy().astype(np.float32)

        def run_road(xs, ts, m):
            return combined(xs, road_maps[:m], [ClassifierOutputTarget(t) for t in ts], model)
        timed('road', f'pytorch_grad_cam.metrics.road.ROADCombined(percentiles={percentiles}), NoisyLinearImputer(noise={S["roadNoise"]})', run_road)

    # ---- Captum ----
    try:
        stub_tqdm_auto()
        sys.path.insert(0, os.environ.get('CAPTUM_PATH', '/tmp/captum'))
        import captum
        from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency
    except ImportError as e:
        unavailable(CAPTUM_ROWS + ['maxSensitivity'], f'Captum does not import: {e}')
        Saliency = None
    else:
        libraries['captum'] = library_info('CAPTUM', '/tmp/captum', captum)
        saliency = Saliency(model)

        def run_gradient(xs, ts, _):
            return normalized(saliency.attribute(xs, target=ts, abs=True).amax(1))
        timed('gradient', 'captum.attr.Saliency(abs=True), max over channels, min-max', run_gradient)

        ig = IntegratedGradients(model)
        ig_method = 'gausslegendre' if S['igMethod'] == 'gauss-legendre' else S['igMethod'].replace('-', '_')

        def run_ig(xs, ts, _):
            a, _delta = ig.attribute(xs, baselines=0.0, target=ts, n_steps=S['igSteps'], method=ig_method,
                                     internal_batch_size=S['igBatch'], return_convergence_delta=True)
            return normalized(a.sum(1).abs())
        timed('integratedGradients', f"captum.attr.IntegratedGradients(n_steps={S['igSteps']}, method='{ig_method}', internal_batch_size={S['igBatch']}, "
              'return_convergence_delta=True), sum over channels, abs, min-max', run_ig)

        tunnel = NoiseTunnel(saliency)

        def run_smooth(xs, ts, m):
            # Captum's stdevs is one number per input tensor: sigma times the batch's value range
            # (ours: each image's own range; the same cost).
            stdev = S['smoothGradSigma'] * float(xs.max() - xs.min())
            a = tunnel.attribute(xs, nt_type='smoothgrad', nt_samples=S['smoothGradSamples'], nt_samples_batch_size=max(1, S['smoothGradBatch'] // m),
                                 stdevs=stdev, target=ts, abs=True)
            return normalized(a.amax(1))
        timed('smoothGrad', f"captum.attr.NoiseTunnel(Saliency), nt_type='smoothgrad', nt_samples={S['smoothGradSamples']}, "
              f"nt_samples_batch_size={S['smoothGradBatch']}//images, stdevs={S['smoothGradSigma']}*(max-min), max over channels, min-max", run_smooth)

        occ = Occlusion(model)
        w, st = S['occlusionWindow'], S['occlusionStride']

        def run_occlusion(xs, ts, m):
            a = occ.attribute(xs, sliding_window_shapes=(3, w, w), strides=(3, st, st), baselines=S['occlusionBaseline'], target=ts,
                              perturbations_per_eval=max(1, S['occlusionBatch'] // m))
            return normalized(a[:, 0].abs())
        timed('occlusion', f"captum.attr.Occlusion(sliding_window_shapes=(3,{w},{w}), strides=(3,{st},{st}), baselines={S['occlusionBaseline']}, "
              f"perturbations_per_eval={S['occlusionBatch']}//images), abs, min-max", run_occlusion)

    # ---- Quantus ----
    try:
        stub_tqdm_auto()
        sys.path.insert(0, os.environ.get('QUANTUS_PATH', '/tmp/quantus'))
        import quantus
    except ImportError as e:
        unavailable(QUANTUS_ROWS, f'Quantus does not import (its module-level imports need Debian python3-pandas, python3-sklearn, '
                                  f'python3-skimage, python3-opencv, python3-matplotlib): {e}')
    else:
        libraries['quantus'] = library_info('QUANTUS', '/tmp/quantus', quantus)
        y = np.array(targets)
        a_maps = sal_maps.view(n, 1, H, H).numpy().astype(np.float32)
        sparseness = quantus.Sparseness(disable_warnings=True)

        def run_sparseness(xs, ts, m):
            return sparseness(model=model, x_batch=xs.numpy(), y_batch=y[:m], a_batch=a_maps[:m], device='cpu')
        timed('sparseness', 'quantus.Sparseness() (abs, normalise: its defaults)', run_sparseness)
        if Saliency is not None:
            def gradient_explain(model, inputs, targets, **kwargs):
                a = Saliency(model).attribute(torch.as_tensor(inputs), target=torch.as_tensor(targets).tolist(), abs=True)
                return normalized(a.amax(1)).unsqueeze(1).detach().numpy()
            sensitivity = quantus.MaxSensitivity(nr_samples=S['sensitivitySamples'], lower_bound=S['sensitivityRadius'], disable_warnings=True)

            def run_sensitivity(xs, ts, m):
                return sensitivity(model=model, x_batch=xs.numpy(), y_batch=y[:m], a_batch=None, explain_func=gradient_explain,
                                   batch_size=S['sensitivityBatch'], device='cpu')
            timed('maxSensitivity', f"quantus.MaxSensitivity(nr_samples={S['sensitivitySamples']}, lower_bound={S['sensitivityRadius']}), "
                  f"batch_size={S['sensitivityBatch']}, explain_func: Captum Saliency as our gradient", run_sensitivity)

    # ---- RISE (official generate_masks + forward, batched; softmax probability of the target) ----
    s, p1 = S['riseGrid'], S['keepProbability']
    cell = math.ceil(H / s)
    up = (s + 1) * cell
    rng = np.random.default_rng(0)

    def rise(xs, ts, _):
        grid = (rng.random((S['riseMasks'], 1, s, s)) < p1).astype(np.float32)
        sal = torch.zeros(xs.shape[0], H, H)
        with torch.no_grad():
            for b0 in range(0, S['riseMasks'], S['riseBatch']):
                g = torch.from_numpy(grid[b0:b0 + S['riseBatch']])
                ups = F.interpolate(g, size=(up, up), mode='bilinear', align_corners=False)
                masks = torch.stack([ups[i, :, dy:dy + H, dx:dx + H] for i, (dy, dx) in enumerate(rng.integers(0, cell, (g.shape[0], 2)))])
                for i in range(xs.shape[0]):
                    prob = torch.softmax(model(xs[i:i + 1] * masks), dim=1)[:, ts[i]]
                    sal[i] += (prob[:, None, None] * masks[:, 0]).sum(0)
        return sal / S['riseMasks'] / p1
    timed('rise', 'PyTorch port of the official RISE code (eclique/RISE)', rise)

    # ---- Insertion + deletion (official CausalMetric; steps batched like the JS side, batch 64) ----
    klen, nsig = 11, 5
    from scipy.ndimage import gaussian_filter
    inp = np.zeros((klen, klen)); inp[klen // 2, klen // 2] = 1
    k = torch.from_numpy(gaussian_filter(inp, nsig).astype(np.float32))
    kern = torch.zeros(3, 1, klen, klen); kern[:, 0] = k
    step = S['insertionDeletionStep']

    def ins_del(xs, ts, _):
        hw = H * H
        n_steps = (hw + step - 1) // step
        out = []
        with torch.no_grad():
            blurred = F.conv2d(xs, kern, padding=klen // 2, groups=3)
            for start_all, finish_all in [(xs, torch.zeros_like(xs)), (blurred, xs)]:
                for i in range(xs.shape[0]):
                    order = torch.flip(torch.argsort(sal_maps[i]), [0])
                    rank = torch.empty(hw, dtype=torch.long); rank[order] = torch.arange(hw)
                    thr = torch.clamp(torch.arange(n_steps + 1) * step, max=hw)
                    for b0 in range(0, n_steps + 1, 64):
                        m = (rank[None, :] < thr[b0:b0 + 64, None]).float().view(-1, 1, H, H)
                        canvas = start_all[i:i + 1] * (1 - m) + finish_all[i:i + 1] * m
                        out.append(torch.softmax(model(canvas), 1)[:, ts[i]])
        return out
    timed('insertionDeletion', 'PyTorch port of the official RISE CausalMetric (insertion + deletion)', ins_del)
    print(json.dumps({'torch': torch.__version__, 'threads': args.threads, 'methods': methods, 'implementations': implementations,
                      'missing': missing, 'libraries': libraries, 'env': env}))


if __name__ == '__main__':
    main()
