#!/usr/bin/env python3
"""Reference for tools/bench/train-step.mjs: one training step (forward, backward, SGD with
Nesterov momentum) of WRN-28-2 at 32x32 in PyTorch on the CPU, FixMatch variant (TorchSSL/USB
wrn.py): pre-activation basic blocks, BatchNorm momentum 0.001 eps 0.001, LeakyReLU 0.1,
convolutions with bias. Prints one JSON line with images/s.

usage: train-step-reference.py --threads T --batch B --steps N --warmup W
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from wrn_reference import WideResNet  # noqa: E402  (tools/bench/lib/wrn_reference.py)
from torch_env import reference_env  # noqa: E402  (tools/bench/lib/torch_env.py)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    env = reference_env()
    torch.manual_seed(0)
    model = WideResNet(inplace_relu=False, xavier_fc=True, return_features=False).train()
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
        'env': env,
    }))


if __name__ == '__main__':
    main()
