#!/usr/bin/env python3
"""Golden for @lico/cam's FullGrad parity test against pytorch-grad-cam's `FullGrad`.

The case of `cam-pytorch-grad-cam.py` (`cam_formula_case.py`: a torchvision ResNet-18, 10 classes,
with the formula state dict of `backbones-torch-weights.py`, eval mode, the 2 formula images
3x64x64, targets ClassifierOutputTarget([3, 7])), explained by pytorch-grad-cam's FullGrad (all
Conv2d-with-bias and BatchNorm2d layers; torchvision's ResNet convs have no bias, so its 20 batch
norms). Maps are stored strided (every 5th flat element of the [2,64,64] map), like the other goldens.

Also recorded, to pin down what the reference does: the biased layers in pytorch-grad-cam's order
(module registration order) and the same FullGrad recomputed here with each layer's gradient
captured by name (a hook per module) rather than by the reference's position in its gradient
list (`pairing_check`: max |reference − by-name|, 0 when the reference pairs every bias with its
own layer's gradient), and the completeness residual of the full-gradient decomposition in
float64 (`logit − Σ x·∂y/∂x − Σ_layers Σ b·∂y/∂z − fc.bias`, ~0 for this ReLU network).

pytorch-grad-cam is not a project dependency: run it from a checkout beside the project,
  PGC_PATH=/tmp/pgc /usr/bin/python3 tools/reference/cam-pytorch-grad-cam-fullgrad.py
(the stubs for its unused module-level imports are those of cam-pytorch-grad-cam.py).
"""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'packages', 'cam', 'src', '__golden__', 'pytorch-grad-cam-fullgrad.json')
PGC = os.environ.get('PGC_PATH', '/tmp/pgc')
STRIDE = 5


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    torch.set_num_threads(int(os.environ.get('LICO_THREADS', '2')))
    bbw = load('bbw', 'backbones-torch-weights.py')
    pgc_script = load('pgc_script', 'cam-pytorch-grad-cam.py')
    stubbed = pgc_script.install_stubs()
    sys.path.insert(0, PGC)
    import cv2
    from pytorch_grad_cam import FullGrad
    from pytorch_grad_cam.utils.image import scale_accross_batch_and_channels, scale_cam_image
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

    cam = FullGrad(model=model, target_layers=[])
    reference = cam(input_tensor=x, targets=[ClassifierOutputTarget(t) for t in targets])
    bias_data = [b.copy() for b in cam.bias_data]
    cam.activations_and_grads.release()
    del cam

    # The same method with every layer's gradient captured by name.
    layers = [(n, m) for n, m in model.named_modules()
              if type(m) in (torch.nn.Conv2d, torch.nn.BatchNorm2d) and m.bias is not None]
    grads = {}
    outputs = {}

    def hook(name):
        def forward_hook(module, inputs, output):
            outputs[name] = output
            output.register_hook(lambda g: grads.__setitem__(name, g.detach().clone()))
        return forward_hook

    handles = [m.register_forward_hook(hook(n)) for n, m in layers]
    xi = x.clone().requires_grad_(True)
    out = model(xi)
    score = sum(out[i, t] for i, t in enumerate(targets))
    model.zero_grad()
    score.backward()
    for h in handles:
        h.remove()

    def effective_bias(m):
        if isinstance(m, torch.nn.BatchNorm2d):
            return (-(m.running_mean * m.weight / torch.sqrt(m.running_var + m.eps)) + m.bias).detach()
        return m.bias.detach()

    size = (shape[3], shape[2])
    terms = [scale_accross_batch_and_channels(np.abs(xi.grad.numpy() * x.numpy()), size)]
    for (name, m), b in zip(layers, bias_data):
        assert np.array_equal(effective_bias(m).numpy(), b), name
        t = scale_accross_batch_and_channels(np.abs(b[None, :, None, None] * grads[name].numpy()), size)
        terms.append(np.sum(t, axis=1)[:, None])
    by_name = scale_cam_image(np.sum(np.sum(np.concatenate(terms, axis=1), axis=1)[:, None], axis=1))
    pairing = float(np.abs(by_name - reference).max())

    # Completeness in float64: logit = Σ x·∂y/∂x + Σ_layers Σ b·∂y/∂z + fc.bias[target].
    total = (xi.grad.double() * x.double()).sum(dim=(1, 2, 3))
    for name, m in layers:
        total = total + (effective_bias(m).double()[None, :, None, None] * grads[name].double()).sum(dim=(1, 2, 3))
    total = total + model.fc.bias.detach().double()[targets]
    picked = torch.tensor([float(logits[i, t]) for i, t in enumerate(targets)], dtype=torch.float64)
    residual = float((picked - total).abs().max())

    golden = {
        'script': 'tools/reference/cam-pytorch-grad-cam-fullgrad.py',
        'versions': {
            'torch': torch.__version__, 'torchvision': torchvision.__version__, 'numpy': np.__version__,
            'opencv': cv2.__version__, 'pytorch_grad_cam_commit': commit,
        },
        'stubbed_imports': stubbed,
        'model': 'torchvision resnet18(num_classes=10), formula state dict of tools/reference/backbones-torch-weights.py',
        'input_shape_nchw': list(shape),
        'targets': targets,
        'logits': [round(float(v), 6) for v in logits.reshape(-1)],
        'stride': STRIDE,
        'bias_layers': [n for n, _ in layers],
        'pairing_check': pairing,
        'completeness_residual_float64': residual,
        'maps': {'fullGrad': [round(float(v), 6) for v in reference.reshape(-1)[::STRIDE]]},
    }
    with open(OUT, 'w') as f:
        json.dump(golden, f)
        f.write('\n')
    print('wrote', os.path.normpath(OUT), 'layers', len(layers), 'pairing', pairing, 'completeness residual', residual)


if __name__ == '__main__':
    main()
