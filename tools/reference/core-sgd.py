"""Golden values for @lico/core's SGD: torch.optim.SGD on fixed parameters and gradient sequences.

Writes packages/core/src/optim/__golden__/sgd.json. Run: /usr/bin/python3 tools/reference/core-sgd.py
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)


def params():
    w = torch.tensor([[0.5, -1.0, 2.0], [0.25, 0.75, -0.5]])
    b = torch.tensor([0.1, -0.2, 0.3])
    return w, b


def grads(step):
    gw = torch.tensor([[math.sin(step + i * 3 + j) for j in range(3)] for i in range(2)])
    gb = torch.tensor([math.cos(step * 2 + j) for j in range(3)])
    return gw, gb


def lr_at(k, total=4, lr0=0.1):
    return lr0 * math.cos(7 * math.pi * k / (16 * total))


def run(case):
    w, b = params()
    w.requires_grad_(True)
    b.requires_grad_(True)
    wd = case["weightDecay"]
    decoupled = case.get("decoupled", False)
    exclude = case.get("exclude", False)
    groups = [{"params": [w], "weight_decay": 0.0 if decoupled else wd},
              {"params": [b], "weight_decay": 0.0 if (decoupled or exclude) else wd}]
    opt = torch.optim.SGD(groups, lr=0.1, momentum=case["momentum"], dampening=case.get("dampening", 0.0),
                          nesterov=case.get("nesterov", False))
    for k in range(4):
        lr = lr_at(k)
        for g in opt.param_groups:
            g["lr"] = lr
        gw, gb = grads(k)
        w.grad = gw.clone()
        b.grad = gb.clone()
        if decoupled:
            with torch.no_grad():
                w.mul_(1 - lr * wd)
                if not exclude:
                    b.mul_(1 - lr * wd)
        opt.step()
    return {"w": w.detach().flatten().tolist(), "b": b.detach().tolist()}


cases = [
    {"name": "l2", "momentum": 0.9, "weightDecay": 5e-4},
    {"name": "l2-exclude-bias", "momentum": 0.9, "weightDecay": 5e-2, "exclude": True},
    {"name": "nesterov", "momentum": 0.9, "weightDecay": 1e-2, "nesterov": True},
    {"name": "dampening", "momentum": 0.8, "weightDecay": 1e-2, "dampening": 0.3},
    {"name": "decoupled", "momentum": 0.9, "weightDecay": 5e-2, "decoupled": True},
    {"name": "no-momentum", "momentum": 0.0, "weightDecay": 1e-2},
]
out = {
    "generatedBy": "tools/reference/core-sgd.py",
    "torch": torch.__version__,
    "note": "torch.optim.SGD in float64; 4 steps with lr_k = 0.1*cos(7*pi*k/(16*4)); grads gw[i][j]=sin(k+3i+j), gb[j]=cos(2k+j); decoupled = p *= 1-lr*wd before SGD(wd=0)",
    "cases": [dict(c, **run(c)) for c in cases],
}
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "..", "packages", "core", "src", "optim", "__golden__", "sgd.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
