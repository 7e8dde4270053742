#!/usr/bin/env python3
"""Reference for tools/bench/train-step.mjs: one training step (forward, backward, SGD with
Nesterov momentum) of WRN-28-2 at 32x32 in PyTorch on the CPU, FixMatch variant (TorchSSL/USB
wrn.py): pre-activation basic blocks, BatchNorm momentum 0.001 eps 0.001, LeakyReLU 0.1,
convolutions with bias. Prints one JSON line with images/s.

usage: train-step-reference.py --threads T --batch B --steps N --warmup W
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, activate_before_residual=False):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, momentum=0.001, eps=0.001)
        self.relu1 = nn.LeakyReLU(0.1, inplace=False)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=True)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.001, eps=0.001)
        self.relu2 = nn.LeakyReLU(0.1, inplace=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=True)
        self.equal = cin == cout
        self.shortcut = None if self.equal else nn.Conv2d(cin, cout, 1, stride, 0, bias=True)
        self.abr = activate_before_residual

    def forward(self, x):
        if not self.equal and self.abr:
            x = self.relu1(self.bn1(x))
            out = x
        elif self.equal:
            out = self.relu1(self.bn1(x))
        else:
            self.relu1(self.bn1(x))  # computed, unused (as in the reference implementation)
            out = x
        out = self.conv2(self.relu2(self.bn2(self.conv1(out))))
        return (x if self.equal else self.shortcut(x)) + out


class WideResNet(nn.Module):
    def __init__(self, num_classes=10, depth=28, widen=2):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=True)
        layers = []
        for g in range(3):
            for i in range(n):
                cin = ch[g] if i == 0 else ch[g + 1]
                stride = 2 if (i == 0 and g > 0) else 1
                layers.append(BasicBlock(cin, ch[g + 1], stride, activate_before_residual=(g == 0)))
        self.blocks = nn.Sequential(*layers)
        self.bn1 = nn.BatchNorm2d(ch[3], momentum=0.001, eps=0.001)
        self.relu = nn.LeakyReLU(0.1, inplace=False)
        self.fc = nn.Linear(ch[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='leaky_relu')
            elif isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        out = self.relu(self.bn1(self.blocks(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = WideResNet().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        'imagesPerSec': a.batch / median,
        'msPerStep': median * 1000,
        'msPerStepAll': [round(t * 1000, 1) for t in times],
        'threads': torch.get_num_threads(),
        'torch': torch.__version__,
        'python': sys.version.split()[0],
        'params': sum(p.numel() for p in model.parameters()),
    }))


if __name__ == '__main__':
    main()
