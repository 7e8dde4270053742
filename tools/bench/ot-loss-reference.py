#!/usr/bin/env python3
"""PyTorch reference for the ot-loss benchmark (launched by tools/bench/ot-loss.mjs).

Reads float32 image points [N,P,D] and text points [N,Q,D] from a raw file, then times
optimalTransportLoss forward + backward exactly as LICO defines it: L2-normalise along D,
squared Euclidean cost (||x||^2 + ||y||^2 - 2 x.y, clamped at 0), log-domain Sinkhorn under
no_grad (the authors' SinkhornDistance updates; stop when the batch-mean L1 change of u is below
the tolerance, checked after every iteration with .item()), loss = mean_n sum(plan * cost),
backward to both inputs. Prints one JSON line.

With --serve it instead answers each stdin line 'run' with the milliseconds of one step (after
a first 'ready' JSON line), so the caller can interleave its own runs with the reference's and
both see the same machine load.
"""
import os
import sys
import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from torch_env import reference_env  # noqa: E402  (tools/bench/lib/torch_env.py)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--input', required=True)
    ap.add_argument('--shape', required=True, help='N,P,Q,D')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--epsilon', type=float, default=0.1)
    ap.add_argument('--max-iter', type=int, default=100)
    ap.add_argument('--tolerance', type=float, default=1e-3)
    ap.add_argument('--serve', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    env = reference_env()
    n, p, q, d = (int(v) for v in a.shape.split(','))
    raw = np.fromfile(a.input, dtype=np.float32)
    x0 = torch.from_numpy(raw[: n * p * d].reshape(n, p, d).copy())
    y0 = torch.from_numpy(raw[n * p * d:].reshape(n, q, d).copy())
    eps, max_iter, tol = a.epsilon, a.max_iter, a.tolerance

    def step():
        x = x0.clone().requires_grad_(True)
        y = y0.clone().requires_grad_(True)
        xn = F.normalize(x, dim=-1)
        yn = F.normalize(y, dim=-1)
        cost = torch.clamp((xn * xn).sum(-1, keepdim=True) + (yn * yn).sum(-1).unsqueeze(1) - 2 * torch.bmm(xn, yn.transpose(1, 2)), min=0)
        with torch.no_grad():
            c = cost.detach()
            mu = torch.full((n, p), 1.0 / p)
            nu = torch.full((n, q), 1.0 / q)
            u = torch.zeros(n, p)
            v = torch.zeros(n, q)
            it = 0
            for _ in range(max_iter):
                u1 = u
                u = eps * (torch.log(mu) - torch.logsumexp((-c + u.unsqueeze(-1) + v.unsqueeze(-2)) / eps, dim=-1)) + u
                v = eps * (torch.log(nu) - torch.logsumexp(((-c + u.unsqueeze(-1) + v.unsqueeze(-2)) / eps).transpose(-2, -1), dim=-1)) + v
                err = (u - u1).abs().sum(-1).mean()
                it += 1
                if err.item() < tol:
                    break
            plan = torch.exp((-c + u.unsqueeze(-1) + v.unsqueeze(-2)) / eps)
        loss = (plan * cost).sum((-2, -1)).mean()
        loss.backward()
        return loss.item(), it, x.grad, y.grad

    for _ in range(a.warmup):
        step()
    if a.serve:
        loss, it, gx, gy = step()
        print(json.dumps({'ready': True, 'iterations': it, 'loss': loss, 'threads': a.threads, 'torch': torch.__version__, 'env': env}), flush=True)
        for line in sys.stdin:
            if line.strip() != 'run':
                break
            t = time.perf_counter()
            step()
            print((time.perf_counter() - t) * 1000, flush=True)
        return
    times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        loss, it, gx, gy = step()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(json.dumps({
        'ms': times[len(times) // 2], 'minMs': times[0], 'iterations': it, 'loss': loss,
        'gradAbsSum': float(gx.abs().sum() + gy.abs().sum()), 'threads': a.threads,
        'torch': torch.__version__, 'env': env,
    }))


if __name__ == '__main__':
    main()
