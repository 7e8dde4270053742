"""Reference for tools/bench/input-pipeline.mjs: torchvision's weak augmentation (RandomCrop 32,
padding 4, reflect; RandomHorizontalFlip; Normalize) on uint8 32x32x3 images through a
DataLoader (batch 64, shuffle, num_workers 0), single-threaded like our JS pipeline.
Prints one JSON line: {"imagesPerSec", "torch", "torchvision", "threads"}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from torch_env import reference_env  # noqa: E402  (tools/bench/lib/torch_env.py)

p = argparse.ArgumentParser()
p.add_argument('--images', type=int, default=4096)
p.add_argument('--batch', type=int, default=64)
p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
env = reference_env()
torch.manual_seed(0)
data = torch.from_numpy(np.random.default_rng(0).integers(0, 256, size=(a.images, 3, 32, 32), dtype=np.uint8))
labels = torch.from_numpy(np.random.default_rng(1).integers(0, 10, size=(a.images,)))
tf = transforms.Compose([
    transforms.RandomCrop(32, padding=4, padding_mode='reflect'),
    transforms.RandomHorizontalFlip(),
    transforms.ConvertImageDtype(torch.float32),
    transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
])


class Ds(torch.utils.data.Dataset):
    def __len__(self):
        return a.images

    def __getitem__(self, i):
        return tf(data[i]), labels[i]


loader = torch.utils.data.DataLoader(Ds(), batch_size=a.batch, shuffle=True, num_workers=0)
for i, _ in enumerate(loader):  # warm-up
    if i == 3:
        break
t0 = time.perf_counter()
n = 0
for x, y in loader:
    n += x.shape[0]
dt = time.perf_counter() - t0
print(json.dumps({'imagesPerSec': n / dt, 'torch': torch.__version__, 'torchvision': torchvision.__version__, 'threads': a.threads, 'env': env}))
