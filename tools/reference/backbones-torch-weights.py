#!/usr/bin/env python3
"""Golden outputs for @lico/backbones' PyTorch-import parity tests.

Builds the reference networks in PyTorch (torchvision ResNets; the FixMatch WideResNet of
TorchSSL/USB `wrn.py` and kuangliu's PreActResNet-18, both written out below), fills every
state-dict tensor with a deterministic formula that the JS twin `packages/testing/src/torch-weights.ts`
reproduces, runs formula-generated inputs through them and writes
`packages/backbones/src/__golden__/torch-parity.json`.

The weight formula, for the k-th key in sorted order (keys ending in `num_batches_tracked`
skipped) and flat element i (row-major, PyTorch layout), with s = hash(i, k) in [-1, 1), an
integer hash (exact in both languages, decorrelated across channels: a smooth formula such as
sin(a*i + b) makes every filter a mix of two fixed ones and training-mode batch norm ill-conditioned):
  h = ((i+1)*0x9E3779B1 mod 2^32) XOR ((k+1)*0x85EBCA77 mod 2^32)
  h = ((h XOR (h >> 15)) * 0x2C1B3C6D) mod 2^32;  h = h XOR (h >> 12);  s = 2*h/2^32 - 1
  running_var      0.75 + 0.25*s
  running_mean     0.1*s
  rank-1 `.weight` 1 + 0.2*s        (batch-norm scale)
  rank-1 `.bias`   0.1*s
  rank >= 2        s / sqrt(prod(shape[1:]))   (conv / linear weight, 1/sqrt(fan_in))
The input, flat NCHW index j: 0.8*sin(0.11*j + 0.3) + 0.2*cos(0.017*j).

Run: /usr/bin/python3 tools/reference/backbones-torch-weights.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'backbones', 'src', '__golden__', 'torch-parity.json')


def hash_unit(n, k):
    m = np.uint64(0xFFFFFFFF)
    i = np.arange(n, dtype=np.uint64)
    h = (((i + np.uint64(1)) * np.uint64(0x9E3779B1)) & m) ^ ((np.uint64(k + 1) * np.uint64(0x85EBCA77)) & m)
    h = ((h ^ (h >> np.uint64(15))) * np.uint64(0x2C1B3C6D)) & m
    h = h ^ (h >> np.uint64(12))
    return h.astype(np.float64) * (2.0 / 4294967296.0) - 1.0


def formula_tensor(key, shape, k):
    n = int(np.prod(shape)) if len(shape) > 0 else 1
    s = hash_unit(n, k)
    if key.endswith('running_var'):
        v = 0.75 + 0.25 * s
    elif key.endswith('running_mean'):
        v = 0.1 * s
    elif len(shape) == 1 and key.endswith('.weight'):
        v = 1 + 0.2 * s
    elif len(shape) == 1 and key.endswith('.bias'):
        v = 0.1 * s
    else:
        v = s / math.sqrt(float(np.prod(shape[1:])))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def fill_formula(model):
    sd = model.state_dict()
    keys = sorted(k for k in sd.keys() if not k.endswith('num_batches_tracked'))
    new = {k: formula_tensor(k, list(sd[k].shape), idx) for idx, k in enumerate(keys)}
    for k in sd.keys():
        if k.endswith('num_batches_tracked'):
            new[k] = sd[k]
    model.load_state_dict(new)
    return keys


def formula_input(shape):
    n = int(np.prod(shape))
    j = np.arange(n, dtype=np.float64)
    v = 0.8 * np.sin(0.11 * j + 0.3) + 0.2 * np.cos(0.017 * j)
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


# ---- FixMatch WideResNet (TorchSSL / USB wrn.py) ----
class WrnBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride, drop_rate=0.0, activate_before_residual=False):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes, momentum=0.001, eps=0.001)
        self.relu1 = nn.LeakyReLU(negative_slope=0.1, inplace=False)
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(out_planes, momentum=0.001, eps=0.001)
        self.relu2 = nn.LeakyReLU(negative_slope=0.1, inplace=False)
        self.conv2 = nn.Conv2d(out_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=True)
        self.drop_rate = drop_rate
        self.equalInOut = in_planes == out_planes
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, padding=0, bias=True) or None
        self.activate_before_residual = activate_before_residual

    def forward(self, x):
        if not self.equalInOut and self.activate_before_residual:
            x = self.relu1(self.bn1(x))
        else:
            out = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(out if self.equalInOut else x)))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class WrnGroup(nn.Module):
    def __init__(self, n, in_planes, out_planes, stride, abr):
        super().__init__()
        self.layer = nn.Sequential(*[WrnBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1, 0.0, abr) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, num_classes, depth=28, widen_factor=2, in_channels=3):
        super().__init__()
        c = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(in_channels, c[0], kernel_size=3, stride=1, padding=1, bias=True)
        self.block1 = WrnGroup(n, c[0], c[1], 1, True)
        self.block2 = WrnGroup(n, c[1], c[2], 2, False)
        self.block3 = WrnGroup(n, c[2], c[3], 2, False)
        self.bn1 = nn.BatchNorm2d(c[3], momentum=0.001, eps=0.001)
        self.relu = nn.LeakyReLU(negative_slope=0.1, inplace=False)
        self.fc = nn.Linear(c[3], num_classes)

    def features(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        return self.relu(self.bn1(out))


# ---- kuangliu PreActResNet-18 ----
class PreActBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, 'shortcut') else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet18(nn.Module):
    def __init__(self, num_classes=10, in_channels=3):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.layer1 = self._make_layer(64, 2, 1)
        self.layer2 = self._make_layer(128, 2, 2)
        self.layer3 = self._make_layer(256, 2, 2)
        self.layer4 = self._make_layer(512, 2, 2)
        self.linear = nn.Linear(512, num_classes)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(PreActBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def features(self, x):
        return self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(x)))))


def tv_features(m, x):
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    return m.layer4(m.layer3(m.layer2(m.layer1(x))))


def cifar_resnet(depth, num_classes, in_channels):
    m = getattr(torchvision.models, f'resnet{depth}')(num_classes=num_classes)
    m.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    m.maxpool = nn.Identity()
    return m


def head(model, fm):
    emb = fm.mean(dim=(2, 3))
    fc = model.fc if hasattr(model, 'fc') else model.linear
    return emb, fc(emb)


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous().reshape(-1).tolist()


def case(name, model, feats, input_shape, fm_stride=1, train_stats=False):
    keys = fill_formula(model)
    sd = model.state_dict()
    shapes = {k: list(sd[k].shape) for k in keys}
    x = formula_input(input_shape)
    model.eval()
    with torch.no_grad():
        fm = feats(model, x)
        emb, logits = head(model, fm)
    out = {
        'input_shape_nchw': input_shape,
        'state_dict_shapes': shapes,
        'params': sum(p.numel() for p in model.parameters()),
        'feature_map_shape_nhwc': [fm.shape[0], fm.shape[2], fm.shape[3], fm.shape[1]],
        'feature_map_stride': fm_stride,
        'feature_map_nhwc_strided': nhwc(fm)[::fm_stride],
        'embedding': emb.reshape(-1).tolist(),
        'logits': logits.reshape(-1).tolist(),
    }
    if train_stats:
        model.train()
        with torch.no_grad():
            fm = feats(model, x)
            emb, logits = head(model, fm)
        out['train_logits'] = logits.reshape(-1).tolist()
        sd = model.state_dict()
        out['running_after_train'] = {k: sd[k].reshape(-1).tolist() for k in keys if 'running_' in k}
    print(name, 'params', out['params'], 'logits[0:3]', out['logits'][:3], file=sys.stderr)
    return out


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    cases = {}
    cases['wrn-28-2'] = case('wrn-28-2', WideResNet(10, 28, 2), lambda m, x: m.features(x), [2, 3, 32, 32], fm_stride=7)
    cases['wrn-16-1-c1'] = case('wrn-16-1-c1', WideResNet(10, 16, 1, in_channels=1), lambda m, x: m.features(x), [3, 1, 28, 28], fm_stride=3, train_stats=True)
    cases['resnet18'] = case('resnet18', torchvision.models.resnet18(num_classes=1000), tv_features, [2, 3, 64, 64])
    cases['resnet50-c10'] = case('resnet50-c10', torchvision.models.resnet50(num_classes=10), tv_features, [2, 3, 64, 64], fm_stride=5)
    cases['resnet18-cifar-c1'] = case('resnet18-cifar-c1', cifar_resnet(18, 10, 1), tv_features, [2, 1, 16, 16], train_stats=True)
    cases['preact-resnet18'] = case('preact-resnet18', PreActResNet18(10), lambda m, x: m.features(x), [2, 3, 32, 32], fm_stride=3)
    counts = {}
    for d in (18, 34, 50, 101):
        counts[f'resnet{d}-1000'] = sum(p.numel() for p in getattr(torchvision.models, f'resnet{d}')(num_classes=1000).parameters())
    counts['wrn-28-2-10'] = sum(p.numel() for p in WideResNet(10, 28, 2).parameters())
    counts['wrn-28-8-100'] = sum(p.numel() for p in WideResNet(100, 28, 8).parameters())
    counts['preact-resnet18-10'] = sum(p.numel() for p in PreActResNet18(10).parameters())
    golden = {
        'script': 'tools/reference/backbones-torch-weights.py',
        'versions': {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'numpy': np.__version__, 'python': sys.version.split()[0]},
        'param_counts': counts,
        'cases': cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(golden, f, separators=(',', ':'))
    print('wrote', os.path.normpath(OUT), file=sys.stderr)


if __name__ == '__main__':
    main()
