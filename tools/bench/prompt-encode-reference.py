"""Reference for the `prompt-encode` benchmark: the naive CoOp-style prompt pass in PyTorch on the CPU.

A CLIP ViT-B/32-shaped text transformer (12 layers, width 512, 8 heads, causal mask, quick-GELU,
final LN, projection; random frozen weights, requires_grad False) run on the full 77-token context
for the M = 12 prompt variants of `--classes` classes ([SOS] X1..X12 <class> . [EOT] padded to 77;
variant r uses the context rolled by r), forward + backward into the context vectors.

Prints one JSON line: {"seconds": [...], "classes": n, "threads": t}.
Usage: /usr/bin/python3 tools/bench/prompt-encode-reference.py --threads 2 --classes 1 --reps 2
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from torch_env import reference_env  # noqa: E402  (tools/bench/lib/torch_env.py)

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--classes", type=int, default=1)
p.add_argument("--reps", type=int, default=2)
args = p.parse_args()
torch.set_num_threads(args.threads)
env = reference_env()
torch.manual_seed(0)
E, LAYERS, HEADS, L, M, V = 512, 12, 8, 77, 12, 49408


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(E)
        self.attn = nn.MultiheadAttention(E, HEADS, batch_first=True)
        self.ln2 = nn.LayerNorm(E)
        self.fc1 = nn.Linear(E, 4 * E)
        self.fc2 = nn.Linear(4 * E, E)

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        h = self.fc1(self.ln2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))


blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
tok = nn.Embedding(V, E)
pos = nn.Parameter(torch.randn(L, E) * 0.01)
ln_final = nn.LayerNorm(E)
proj = nn.Parameter(torch.randn(E, E) * E ** -0.5)
for prm in list(blocks.parameters()) + list(tok.parameters()) + [pos, proj] + list(ln_final.parameters()):
    prm.requires_grad_(False)
ctx = nn.Parameter(torch.randn(M, E) * 0.02)
mask = torch.full((L, L), float("-inf")).triu(1)
k = args.classes
# token ids: SOS, 12 context slots, a 1-token class name, '.', EOT, padding
ids = torch.zeros(k, L, dtype=torch.long)
ids[:, 0] = 49406
ids[:, 13] = torch.arange(k) + 1000
ids[:, 14] = 269
ids[:, 15] = 49407
eot = 15


def step():
    emb = tok(ids)  # [K,L,E]
    prompts = []
    for r in range(M):
        rolled = torch.roll(ctx, shifts=r, dims=0)
        prompts.append(torch.cat([emb[:, :1], rolled.unsqueeze(0).expand(k, -1, -1), emb[:, 13:]], dim=1))
    x = torch.cat(prompts, 0) + pos  # [M*K,L,E]
    for b in blocks:
        x = b(x, mask)
    feats = ln_final(x[:, eot]) @ proj
    loss = feats.square().sum()
    ctx.grad = None
    loss.backward()


step()
times = []
for _ in range(args.reps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": times, "classes": k, "threads": args.threads, "torch": torch.__version__, "env": env}))
