#!/usr/bin/env python3
"""Golden values for @lico/losses, computed independently with PyTorch in float64.

Writes packages/losses/src/__golden__/losses.json. Run: /usr/bin/python3 tools/reference/losses-golden.py

The optimal-transport loss follows the log-domain Sinkhorn of the LICO spec (the
`SinkhornDistance` module the authors use, with log(mu) instead of log(mu + 1e-8)):
    u <- eps * (log mu - logsumexp_b((-C + u + v) / eps)) + u
    v <- eps * (log nu - logsumexp_a((-C + u + v) / eps)) + v
    stop when mean_n sum_a |u - u_prev| < tolerance, at most max_iter iterations.
The manifold-matching loss follows the spec: normalised rows, squared distances clamped at 1e-4,
softmax of sign * d / tau, KL(A^G || A^F) averaged over the batch.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'packages', 'losses', 'src', '__golden__', 'losses.json')


def sinkhorn(C, mu, nu, eps, max_iter, tol):
    u = torch.zeros_like(mu)
    v = torch.zeros_like(nu)
    it = 0
    def M(u, v):
        return (-C + u.unsqueeze(-1) + v.unsqueeze(-2)) / eps
    for _ in range(max_iter):
        u1 = u
        u = eps * (torch.log(mu) - torch.logsumexp(M(u, v), dim=-1)) + u
        v = eps * (torch.log(nu) - torch.logsumexp(M(u, v).transpose(-2, -1), dim=-1)) + v
        err = (u - u1).abs().sum(-1).mean()
        it += 1
        if err.item() < tol:
            break
    return torch.exp(M(u, v)), it


def ot_case(seed, n, p, q, d, eps=0.1, max_iter=100, tol=1e-3, weights=False, differentiable=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p, d))
    y = rng.standard_normal((n, q, d))
    mu = np.full((n, p), 1.0 / p)
    nu = np.full((n, q), 1.0 / q)
    if weights:
        mu = rng.uniform(0.5, 1.5, (n, p)); mu /= mu.sum(-1, keepdims=True)
        nu = rng.uniform(0.5, 1.5, (n, q)); nu /= nu.sum(-1, keepdims=True)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    xn = F.normalize(xt, dim=-1)
    yn = F.normalize(yt, dim=-1)
    C = ((xn.unsqueeze(2) - yn.unsqueeze(1)) ** 2).sum(-1)
    if differentiable:
        plan, it = sinkhorn(C, torch.tensor(mu), torch.tensor(nu), eps, max_iter, tol)
    else:
        with torch.no_grad():
            plan, it = sinkhorn(C.detach(), torch.tensor(mu), torch.tensor(nu), eps, max_iter, tol)
    loss = (plan * C).sum((-2, -1)).mean()
    gx, gy = torch.autograd.grad(loss, [xt, yt])
    case = {
        'shape': [n, p, q, d], 'epsilon': eps, 'maxIterations': max_iter, 'tolerance': tol,
        'differentiablePlan': differentiable,
        'imagePoints': x.ravel().tolist(), 'textPoints': y.ravel().tolist(),
        'loss': loss.item(), 'iterations': it, 'plan': plan.detach().numpy().ravel().tolist(),
        'cost': C.detach().numpy().ravel().tolist(),
        'gradImagePoints': gx.numpy().ravel().tolist(), 'gradTextPoints': gy.numpy().ravel().tolist(),
    }
    if weights:
        case['sourceWeights'] = mu.ravel().tolist()
        case['targetWeights'] = nu.ravel().tolist()
    return case


def mm_case(seed, n, c, d, tau, sign):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n, c))
    t = rng.standard_normal((n, d))
    et = torch.tensor(e, requires_grad=True)
    tt = torch.tensor(t, requires_grad=True)
    taut = torch.tensor(tau, requires_grad=True)
    s = -1.0 if sign == 'negative' else 1.0
    def dist(z):
        z = F.normalize(z, dim=-1)
        d2 = (z.unsqueeze(1) - z.unsqueeze(0)).pow(2).sum(-1)
        return torch.sqrt(torch.clamp(d2, min=1e-4))
    log_f = F.log_softmax(s * dist(et) / taut, dim=-1)
    log_g = F.log_softmax(s * dist(tt) / taut, dim=-1)
    loss = F.kl_div(log_f, log_g, reduction='batchmean', log_target=True)
    ge, gt, gtau = torch.autograd.grad(loss, [et, tt, taut])
    return {
        'shape': [n, c, d], 'temperature': tau, 'sign': sign,
        'imageEmbeddings': e.ravel().tolist(), 'textEmbeddings': t.ravel().tolist(),
        'loss': loss.item(), 'gradImageEmbeddings': ge.numpy().ravel().tolist(),
        'gradTextEmbeddings': gt.numpy().ravel().tolist(), 'gradTemperature': gtau.item(),
    }


def main():
    ot = [
        ot_case(1, 2, 5, 3, 4),
        ot_case(2, 3, 7, 4, 6, eps=0.05),
        ot_case(3, 2, 6, 5, 8, eps=0.02, tol=1e-5, max_iter=300),
        ot_case(4, 2, 5, 4, 3, weights=True),
        ot_case(5, 2, 4, 3, 5, differentiable=True),
        ot_case(6, 1, 9, 12, 16, eps=0.1, max_iter=7, tol=0.0),
    ]
    mm = [
        mm_case(11, 5, 6, 4, float(np.log(1 / 0.07)), 'negative'),
        mm_case(12, 6, 3, 8, 0.5, 'negative'),
        mm_case(13, 5, 6, 4, float(np.log(1 / 0.07)), 'positive'),
        mm_case(14, 1, 4, 4, 1.0, 'negative'),
    ]
    out = {
        'generator': 'tools/reference/losses-golden.py',
        'python': sys.version.split()[0], 'torch': torch.__version__, 'numpy': np.__version__,
        'dtype': 'float64',
        'optimalTransport': ot, 'manifoldMatching': mm,
    }
    with open(OUT, 'w') as fh:
        json.dump(out, fh)
    print('wrote', os.path.normpath(OUT))


if __name__ == '__main__':
    main()
