"""The case both cam goldens explain: a torchvision ResNet-18 (10 classes) with the formula state
dict of backbones-torch-weights.py (`bbw`, imported by the caller), in eval mode, on the 2 formula
images (3x64x64), targets 3 and 7."""
import importlib.util
import os

import torchvision

SHAPE = (2, 3, 64, 64)
TARGETS = [3, 7]


def formula_case(bbw):
    """Returns (model, x) for SHAPE."""
    model = torchvision.models.resnet18(num_classes=10)
    bbw.fill_formula(model)
    model.eval()
    return model, bbw.formula_input(SHAPE)


def load_bbw():
    """backbones-torch-weights.py (beside this file) as a module, for `formula_case`."""
    spec = importlib.util.spec_from_file_location('bbw', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'backbones-torch-weights.py'))
    bbw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bbw)
    return bbw


def case_fields(logits, stride):
    """The golden fields that describe this case (what @lico/cam's `PytorchGradCamGolden` reads)."""
    return {
        'model': 'torchvision resnet18(num_classes=10), formula state dict of tools/reference/backbones-torch-weights.py',
        'input_shape_nchw': list(SHAPE),
        'targets': TARGETS,
        'logits': [round(float(v), 6) for v in logits.reshape(-1)],
        'stride': stride,
    }
