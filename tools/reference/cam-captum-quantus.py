#!/usr/bin/env python3
"""Goldens for @lico/cam's parity tests against Captum and Quantus.

The case of `cam-pytorch-grad-cam.py` (`cam_formula_case.py`): a torchvision ResNet-18 (10 classes)
with the formula state dict of `tools/reference/backbones-torch-weights.py`, eval mode, the 2
formula images (3x64x64), targets 3 and 7. Maps are stored strided (every 5th flat element of the
[2,64,64] map, 7 significant digits), raw (`*_raw`, before min-max) and reduced as @lico/cam's interpreters reduce them
(per-image min-max `(m - min)/(max - min + 1e-7)`):

- Captum `Saliency(abs=True)`: max over channels (our `gradient`).
- Captum `IntegratedGradients` (n_steps 50 = our default `steps`, baseline 0, method `gausslegendre`
  and `riemann_right`, `return_convergence_delta=True`): summed over channels (raw), abs (our default
  `sign`) and min-max (map); the convergence delta per image. Not `riemann_trapezoid` / `riemann_left`:
  they evaluate the gradient at alpha = 0, the all-zero (constant) image, where every max-pool
  window is a tie and PyTorch and tfjs route the gradient of a tied max differently (a different,
  equally valid subgradient: the gradients at a constant image differ by ~100 % per value though their
  sum agrees), which moves the trapezoid's map by ~1.5 % through its weight-1/(2n) end point.
- Captum `Occlusion` (sliding_window_shapes (3,8,8), strides (3,4,4), baselines 0: our defaults
  `window` 8, `stride` 4, `baseline` 0): channel 0 (all channels get the same value), abs.
- Captum `NoiseTunnel(Saliency)` smoothgrad (nt_samples 4, abs=True), one image per call with
  `stdevs = 0.15 * (max x_i - min x_i)` (our `sigma` 0.15 of each image's range). Its noise draw
  (`torch.normal(0, stdev_expanded)` in noise_tunnel.py) is replaced for the call by
  `stdev_expanded * eps`, eps the standard-normal-like draws written into the golden (int8 codes
  k, eps = k/32, i.e. N(0,1) rounded to 1/32 and clipped to +-127/32; shape [samples, H, W, C], the
  same draws for both images, as ours), so the TS test passes the same eps as `noise`.
- Quantus `Sparseness()` (its defaults abs, normalise), `RelevanceMassAccuracy(abs=True)`,
  `RelevanceRankAccuracy(abs=True)` on fixed signed maps and masks (5 maps of 16x16 stored whole;
  map 1 is mostly 0 and map 3 has 5 levels, so both tie at the K-th value; mask 4 is empty), and
  numpy's rank accuracy with @lico/cam's tie rule beside it.
- Quantus `MaxSensitivity(nr_samples=3, lower_bound=0.2)` with explain_func Captum Saliency reduced
  as our `gradient` (max over channels, min-max) and `perturb_func` (Quantus' own hook; its default
  is `batch_uniform_noise`) replaced by the perturbations written into the golden: int8 codes k
  uniform in [-127, 127], delta = float32(k / 127 * 0.2), shape [N, samples, H, W, C] (image-major,
  NHWC, as our `perturbations` option takes them).

Captum and Quantus are not project dependencies: run them from checkouts beside the project,
  CAPTUM_PATH=/tmp/captum QUANTUS_PATH=/tmp/quantus CAPTUM_COMMIT=faac087 QUANTUS_COMMIT=85bc29d \
    /usr/bin/python3 tools/reference/cam-captum-quantus.py
(`git archive` extractions have no .git, hence the *_COMMIT variables; with a checkout the commit is
read by `git rev-parse HEAD`). Quantus' module-level imports need Debian python3-pandas,
python3-sklearn, python3-opencv, python3-tqdm, python3-cachetools; a missing `tqdm.auto` is stubbed
with a pass-through (recorded in the output).
"""
import base64
import json
import os
import subprocess
import sys
import types

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'packages', 'cam', 'src', '__golden__', 'captum-quantus.json')
CAPTUM = os.environ.get('CAPTUM_PATH', '/tmp/captum')
QUANTUS = os.environ.get('QUANTUS_PATH', '/tmp/quantus')
STRIDE = 5
IG_STEPS = 50
OCCLUSION = {'window': 8, 'stride': 4, 'baseline': 0.0}
SMOOTH = {'samples': 4, 'sigma': 0.15, 'code_scale': 32}
SENSITIVITY = {'samples': 3, 'radius': 0.2, 'code_max': 127}


def commit_of(path, env_name):
    try:
        commit = subprocess.run(['git', '-C', path, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
    except Exception:
        commit = ''
    return commit or os.environ.get(env_name, 'unknown')


def stub_tqdm_auto():
    try:
        import tqdm.auto  # noqa: F401
        return []
    except ImportError:
        auto = types.ModuleType('tqdm.auto')
        auto.tqdm = lambda iterable=None, *a, **k: iterable
        sys.modules['tqdm.auto'] = auto
        return ['tqdm.auto']


def normalized(maps):
    """Per-image min-max `(m - min)/(max - min + 1e-7)` of [N,H,W] maps, as @lico/cam's interpreters."""
    flat = maps.reshape(maps.shape[0], -1)
    lo = flat.min(1, keepdim=True)[0]
    hi = flat.max(1, keepdim=True)[0]
    return ((flat - lo) / (hi - lo + 1e-7)).view_as(maps)


def strided(t):
    """Every STRIDE-th flat value, 7 significant digits (maps in [0,1] and raw attributions alike)."""
    return [float(f'{float(v):.7g}') for v in t.detach().reshape(-1)[::STRIDE]]


def rank_higher_index_first(abs_maps, masks):
    out = []
    for a, m in zip(abs_maps.reshape(len(abs_maps), -1), masks.reshape(len(masks), -1).astype(bool)):
        k = int(m.sum())
        out.append(None if k == 0 else float(m[np.argsort(a, kind='stable')[::-1][:k]].sum() / k))
    return out


def b64(codes):
    return base64.b64encode(codes.astype(np.int8).tobytes()).decode('ascii')


def main():
    torch.set_num_threads(int(os.environ.get('LICO_THREADS', '2')))
    sys.path.insert(0, HERE)
    from cam_formula_case import SHAPE as shape, TARGETS as targets, case_fields, formula_case, load_bbw
    stubbed = stub_tqdm_auto()
    sys.path.insert(0, CAPTUM)
    sys.path.insert(0, QUANTUS)
    import captum
    from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency
    import quantus

    model, x = formula_case(load_bbw())
    n, c, h, w = shape
    with torch.no_grad():
        logits = model(x)
    maps, raw, captum_calls = {}, {}, {}

    # Saliency (our `gradient`)
    g = Saliency(model).attribute(x, target=targets, abs=True).amax(1)
    raw['gradient'], maps['gradient'] = strided(g), strided(normalized(g))
    captum_calls['gradient'] = 'Saliency(model).attribute(x, target=targets, abs=True).amax(1), min-max'

    # Integrated Gradients
    deltas = {}
    ig = IntegratedGradients(model)
    for key, method in [('integratedGradients', 'gausslegendre'), ('integratedGradientsRiemannRight', 'riemann_right')]:
        a, delta = ig.attribute(x, baselines=0.0, target=targets, n_steps=IG_STEPS, method=method, return_convergence_delta=True)
        s = a.sum(1)
        raw[key], maps[key] = strided(s), strided(normalized(s.abs()))
        deltas[key] = [float(v) for v in delta]
        captum_calls[key] = f"IntegratedGradients(model).attribute(x, baselines=0.0, target=targets, n_steps={IG_STEPS}, method='{method}', return_convergence_delta=True), sum over channels (raw), abs + min-max (map)"

    # Occlusion
    wnd, st = OCCLUSION['window'], OCCLUSION['stride']
    o = Occlusion(model).attribute(x, sliding_window_shapes=(c, wnd, wnd), strides=(c, st, st), baselines=OCCLUSION['baseline'], target=targets,
                                   perturbations_per_eval=64)
    o = o[:, 0]
    raw['occlusion'], maps['occlusion'] = strided(o), strided(normalized(o.abs()))
    captum_calls['occlusion'] = f"Occlusion(model).attribute(x, sliding_window_shapes=({c},{wnd},{wnd}), strides=({c},{st},{st}), baselines={OCCLUSION['baseline']}, target=targets, perturbations_per_eval=64)[:, 0], abs + min-max"

    # NoiseTunnel smoothgrad with the golden's noise
    S, sigma = SMOOTH['samples'], SMOOTH['sigma']
    rng = np.random.default_rng(17)
    eps_codes = np.clip(np.round(rng.standard_normal((S, h, w, c)) * SMOOTH['code_scale']), -127, 127).astype(np.int8)
    eps_nchw = torch.from_numpy((eps_codes.astype(np.float32) / SMOOTH['code_scale']).transpose(0, 3, 1, 2).copy())
    tunnel = NoiseTunnel(Saliency(model))
    real_normal = torch.normal
    draws = []

    def golden_normal(mean, std, *args, **kwargs):
        assert not args and not kwargs and mean == 0 and tuple(std.shape) == (S, c, h, w), (mean, tuple(std.shape))
        draws.append(1)
        return std * eps_nchw

    smooth = []
    stdevs = []
    for i in range(n):
        stdev = sigma * float(x[i].max() - x[i].min())
        stdevs.append(stdev)
        torch.normal = golden_normal
        try:
            a = tunnel.attribute(x[i:i + 1], nt_type='smoothgrad', nt_samples=S, stdevs=stdev, target=targets[i], abs=True)
        finally:
            torch.normal = real_normal
        smooth.append(a.amax(1))
    assert len(draws) == n, 'NoiseTunnel did not draw its noise through torch.normal once per call'
    sg = torch.cat(smooth)
    raw['smoothGrad'], maps['smoothGrad'] = strided(sg), strided(normalized(sg))
    captum_calls['smoothGrad'] = (f"NoiseTunnel(Saliency(model)).attribute(x[i:i+1], nt_type='smoothgrad', nt_samples={S}, stdevs={sigma}*(max x_i - min x_i), "
                                  'target=targets[i], abs=True) per image with torch.normal(0, stdev_expanded) -> stdev_expanded * eps; amax(1), min-max')

    # Quantus: Sparseness, RelevanceMassAccuracy, RelevanceRankAccuracy on fixed maps and masks
    qn, qh = 5, 16
    mrng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:qh, 0:qh]
    qmaps = np.zeros((qn, qh, qh), dtype=np.float64)
    qmaps[0] = mrng.uniform(-1, 1, (qh, qh))                          # signed, dense
    qmaps[1][mrng.integers(0, qh, 6), mrng.integers(0, qh, 6)] = mrng.uniform(0.2, 1.0, 6)  # sparse
    qmaps[2] = np.exp(-((yy - 5.0) ** 2 + (xx - 9.0) ** 2) / 12.0) - 0.1  # a blob, slightly negative outside
    qmaps[3] = np.round(mrng.uniform(0, 1, (qh, qh)) * 4) / 4          # ties (5 levels)
    qmaps[4] = mrng.uniform(0, 1, (qh, qh))
    qmaps = np.round(qmaps, 6).astype(np.float32)
    qmasks = np.zeros((qn, qh, qh), dtype=np.float32)
    qmasks[0, 2:9, 3:12] = 1
    qmasks[1, 0:8, :] = 1
    qmasks[2, 2:9, 6:13] = 1
    qmasks[3, 4:12, 4:12] = 1
    # mask 4 stays empty
    xq = np.zeros((qn, 1, qh, qh), dtype=np.float32)
    yq = np.zeros(qn, dtype=np.int64)
    a_q = qmaps[:, None]
    s_q = qmasks[:, None]
    sparse = quantus.Sparseness(disable_warnings=True, display_progressbar=False)(model=None, x_batch=xq, y_batch=yq, a_batch=a_q.copy(), device='cpu')
    mass = quantus.RelevanceMassAccuracy(abs=True, disable_warnings=True, display_progressbar=False)(
        model=None, x_batch=xq, y_batch=yq, a_batch=a_q.copy(), s_batch=s_q.copy(), device='cpu')
    rank = quantus.RelevanceRankAccuracy(abs=True, disable_warnings=True, display_progressbar=False)(
        model=None, x_batch=xq, y_batch=yq, a_batch=a_q.copy(), s_batch=s_q.copy(), device='cpu')

    # Quantus MaxSensitivity with the golden's perturbations
    SS, radius, kmax = SENSITIVITY['samples'], SENSITIVITY['radius'], SENSITIVITY['code_max']
    prng = np.random.default_rng(23)
    delta_codes = prng.integers(-kmax, kmax + 1, (n, SS, h, w, c)).astype(np.int8)
    delta = (delta_codes.astype(np.float64) / kmax * radius).astype(np.float32)  # [N,S,H,W,C]
    delta_nchw = delta.transpose(0, 1, 4, 2, 3).reshape(n, SS, -1)           # [N,S,C*H*W]
    steps_seen = []

    def golden_perturbation(arr, indices, **kwargs):
        step = len(steps_seen)
        steps_seen.append(step)
        assert arr.shape == (n, c * h * w), arr.shape
        return arr + delta_nchw[:, step]

    def gradient_explain(model, inputs, targets, **kwargs):
        a = Saliency(model).attribute(torch.as_tensor(inputs), target=torch.as_tensor(targets).tolist(), abs=True)
        return normalized(a.amax(1)).unsqueeze(1).detach().numpy()

    sensitivity = quantus.MaxSensitivity(nr_samples=SS, lower_bound=radius, perturb_func=golden_perturbation, disable_warnings=True, display_progressbar=False)
    sens = sensitivity(model=model, x_batch=x.numpy(), y_batch=np.array(targets), a_batch=None, explain_func=gradient_explain, device='cpu', batch_size=64)
    assert len(steps_seen) == SS, steps_seen

    golden = {
        'script': 'tools/reference/cam-captum-quantus.py',
        'versions': {
            'torch': torch.__version__, 'torchvision': torchvision.__version__, 'numpy': np.__version__,
            'captum': captum.__version__, 'captum_commit': commit_of(CAPTUM, 'CAPTUM_COMMIT'),
            'quantus': quantus.__version__, 'quantus_commit': commit_of(QUANTUS, 'QUANTUS_COMMIT'),
        },
        'stubbed_imports': stubbed,
        **case_fields(logits, STRIDE),
        'captum_calls': captum_calls,
        'maps': maps,
        'raw': raw,
        'ig': {'steps': IG_STEPS, 'baseline': 0.0, 'convergence_delta': deltas},
        'occlusion': OCCLUSION,
        'smooth_grad': {'samples': S, 'sigma': sigma, 'stdevs': stdevs, 'eps_code_scale': SMOOTH['code_scale'],
                        'eps_int8_base64_shwc': b64(eps_codes)},
        'quantus_localisation': {
            'shape': [qn, qh, qh], 'maps': [float(v) for v in qmaps.reshape(-1)], 'masks': [int(v) for v in qmasks.reshape(-1)],
            'calls': {'sparseness': 'Sparseness() (abs=True, normalise=True: its defaults)', 'relevance_mass_accuracy': 'RelevanceMassAccuracy(abs=True)',
                      'relevance_rank_accuracy': 'RelevanceRankAccuracy(abs=True)'},
            'sparseness': [float(v) for v in sparse],
            'relevance_mass_accuracy': [None if np.isnan(v) else float(v) for v in mass],
            'relevance_rank_accuracy': [None if np.isnan(v) else float(v) for v in rank],
            # Not Quantus: the rank accuracy with ties broken by the higher flat index (numpy's stable
            # argsort of |a| read from the end, @lico/cam's rule). Quantus' `np.argsort(-a)` is numpy's
            # default introsort, not stable, so where the K-th and (K+1)-th |a| tie (maps 1 and 3) its
            # result follows that sort's order.
            'relevance_rank_accuracy_ties_higher_index_first': rank_higher_index_first(np.abs(qmaps), qmasks),
        },
        'max_sensitivity': {
            'samples': SS, 'radius': radius, 'code_max': kmax, 'delta_int8_base64_nshwc': b64(delta_codes),
            'call': f'MaxSensitivity(nr_samples={SS}, lower_bound={radius}, perturb_func=<golden perturbations>), explain_func: Captum Saliency(abs=True).amax(1), min-max',
            'scores': [float(v) for v in sens],
        },
    }
    with open(OUT, 'w') as f:
        json.dump(golden, f)
        f.write('\n')
    q = golden['quantus_localisation']
    print('wrote', os.path.normpath(OUT), {k: len(v) for k, v in maps.items()}, 'deltas', deltas, 'max_sensitivity', golden['max_sensitivity']['scores'],
          {k: q[k] for k in ['sparseness', 'relevance_mass_accuracy', 'relevance_rank_accuracy']})


if __name__ == '__main__':
    main()
