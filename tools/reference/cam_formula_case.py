"""The case both cam goldens explain: a torchvision ResNet-18 (10 classes) with the formula state
dict of backbones-torch-weights.py (`bbw`, imported by the caller), in eval mode, on the 2 formula
images (3x64x64), targets 3 and 7."""
import torchvision

SHAPE = (2, 3, 64, 64)
TARGETS = [3, 7]


def formula_case(bbw):
    """Returns (model, x) for SHAPE."""
    model = torchvision.models.resnet18(num_classes=10)
    bbw.fill_formula(model)
    model.eval()
    return model, bbw.formula_input(SHAPE)
