"""Reference for the `lico-step` benchmark: one LICO training step as the authors formulate it, in
PyTorch on the CPU.

WRN-28-2 (FixMatch variant: pre-activation blocks, BN momentum 0.001 / eps 0.001, LeakyReLU 0.1),
32x32, batch 64, K = 10 classes; a CLIP ViT-B/32-shaped text transformer (12 layers, width 512,
8 heads, causal mask, quick-GELU, final LN, projection 512->512; random frozen weights) run on
the full 77-token context for all K*M prompts every step (CoOp-style: [SOS] X1..X12 <class> . [EOT]
padded to 77; variant r uses the context rolled by r); mapping net Linear(512,512)-Dropout(0.5)-
ReLU-Linear(512,64); manifold matching (normalised, -d/tau, KL(text||image)); optimal transport
(log-domain Sinkhorn, eps 0.1, <= 100 iterations, stop at mean |du| < 1e-3, detached plan);
L = CE + 10*MM + 1*OT; SGD momentum 0.9, weight decay 5e-4 on every trainable parameter; EMA 0.999.

Prints one JSON line: {"licoStepSeconds": [...], "baselineStepSeconds": [...], ...}.
Usage: /usr/bin/python3 tools/bench/lico-step-reference.py --threads 2 --steps 2 --batch 64
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from wrn_reference import WideResNet  # noqa: E402  (tools/bench/lib/wrn_reference.py: WRN-28-2, FixMatch)
from torch_env import reference_env  # noqa: E402  (tools/bench/lib/torch_env.py)

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--steps", type=int, default=2)
p.add_argument("--baseline-steps", type=int, default=3)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--lico-warmup", type=int, default=1)
args = p.parse_args()
torch.set_num_threads(args.threads)
env = reference_env()
torch.manual_seed(0)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- CLIP text transformer
class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d, heads, mask):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_1 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), QuickGELU(), nn.Linear(4 * d, d))
        self.ln_2 = nn.LayerNorm(d)
        self.register_buffer("mask", mask)

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=self.mask)[0]
        return x + self.mlp(self.ln_2(x))


class ClipText(nn.Module):
    def __init__(self, vocab=49408, ctx_len=77, width=512, layers=12, heads=8, proj=512):
        super().__init__()
        mask = torch.full((ctx_len, ctx_len), float("-inf")).triu_(1)
        self.token_embedding = nn.Embedding(vocab, width)
        self.positional_embedding = nn.Parameter(torch.randn(ctx_len, width) * 0.01)
        self.blocks = nn.ModuleList([ResidualAttentionBlock(width, heads, mask) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.randn(width, proj) * width ** -0.5)

    def encode_embeddings(self, x, eot):  # x [B,77,W]
        x = (x + self.positional_embedding).permute(1, 0, 2)
        for b in self.blocks:
            x = b(x)
        x = self.ln_final(x.permute(1, 0, 2))
        return x[torch.arange(x.shape[0]), eot] @ self.text_projection


class PromptLearner(nn.Module):
    """CoOp prompts [SOS] X1..XM <class> . [EOT] + padding to 77; M variants = rolls of ctx."""

    def __init__(self, clip, num_classes=10, n_ctx=12, n_var=12):
        super().__init__()
        self.ctx = nn.Parameter(torch.randn(n_ctx, 512) * 0.02)
        self.n_ctx, self.n_var = n_ctx, n_var
        sos, eot, dot = 49406, 49407, 269
        ids = torch.zeros(num_classes, 77, dtype=torch.long)
        for k in range(num_classes):
            seq = [sos] + [343] * n_ctx + [1000 + k, dot, eot]
            ids[k, : len(seq)] = torch.tensor(seq)
        self.eot = torch.full((num_classes,), 1 + n_ctx + 2, dtype=torch.long)
        with torch.no_grad():
            emb = clip.token_embedding(ids)
        self.register_buffer("prefix", emb[:, :1])
        self.register_buffer("suffix", emb[:, 1 + n_ctx:])

    def forward(self, clip):
        k = self.prefix.shape[0]
        prompts = []
        for r in range(self.n_var):
            ctx = torch.roll(self.ctx, shifts=r, dims=0).unsqueeze(0).expand(k, -1, -1)
            prompts.append(torch.cat([self.prefix, ctx, self.suffix], 1))
        x = torch.cat(prompts, 0)  # [M*K,77,512]
        feats = clip.encode_embeddings(x, self.eot.repeat(self.n_var))
        return feats.view(self.n_var, k, -1)  # [M,K,D]


# ---------------------------------------------------------------- losses
def manifold_matching(e, t, tau):
    e = F.normalize(e, dim=1)
    t = F.normalize(t, dim=1)

    def dist(x):
        sq = (x.unsqueeze(1) - x.unsqueeze(0)).pow(2).sum(-1)
        return sq.clamp_min(1e-4).sqrt()

    log_af = F.log_softmax(-dist(e) / tau, dim=1)
    log_ag = F.log_softmax(-dist(t) / tau, dim=1)
    return (log_ag.exp() * (log_ag - log_af)).sum(1).mean()


def optimal_transport(fp, gp, eps=0.1, iters=100, thresh=1e-3):
    fp = F.normalize(fp, dim=2)  # [N,C,HW]
    gp = F.normalize(gp, dim=2)  # [N,M,HW]
    cost = (fp.unsqueeze(2) - gp.unsqueeze(1)).pow(2).sum(-1)  # [N,C,M]
    n, c, m = cost.shape
    with torch.no_grad():
        cd = cost.detach()
        log_mu = math.log(1.0 / c)
        log_nu = math.log(1.0 / m)
        u = torch.zeros(n, c)
        v = torch.zeros(n, m)
        for _ in range(iters):
            u0 = u
            u = eps * (log_mu - torch.logsumexp((-cd + u.unsqueeze(2) + v.unsqueeze(1)) / eps, 2)) + u
            v = eps * (log_nu - torch.logsumexp((-cd + u.unsqueeze(2) + v.unsqueeze(1)) / eps, 1)) + v
            if (u - u0).abs().sum(-1).mean() < thresh:
                break
        plan = torch.exp((-cd + u.unsqueeze(2) + v.unsqueeze(1)) / eps)
    return (plan * cost).sum((1, 2)).mean()


# ---------------------------------------------------------------- setup
model = WideResNet(inplace_relu=True, xavier_fc=False, return_features=True)
clip = ClipText()
for q in clip.parameters():
    q.requires_grad_(False)
prompt = PromptLearner(clip)
mapping = nn.Sequential(nn.Linear(512, 512), nn.Dropout(0.5), nn.ReLU(), nn.Linear(512, 64))
tau = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
params = list(model.parameters()) + [prompt.ctx] + list(mapping.parameters()) + [tau]
opt = torch.optim.SGD(params, lr=0.03, momentum=0.9, weight_decay=5e-4)
base_opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=5e-4)
ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
x = torch.randn(args.batch, 3, 32, 32)
y = torch.randint(0, 10, (args.batch,))


def ema_update():
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                ema[k].mul_(0.999).add_(v, alpha=0.001)
            else:
                ema[k].copy_(v)


def lico_step():
    model.train()
    mapping.train()
    fmap, emb, logits = model(x)
    feats = prompt(clip)  # [M,K,D]
    points = mapping(feats)  # [M,K,64]
    ce = F.cross_entropy(logits, y)
    mm = manifold_matching(emb, feats[0][y], tau)
    n, c = fmap.shape[:2]
    ot = optimal_transport(fmap.reshape(n, c, -1), points[:, y].permute(1, 0, 2))
    loss = ce + 10 * mm + 1 * ot
    opt.zero_grad(set_to_none=True)
    loss.backward()
    vals = [ce.item(), mm.item(), ot.item()]
    if not all(math.isfinite(v) for v in vals):
        raise RuntimeError("non-finite")
    opt.step()
    ema_update()


def baseline_step():
    model.train()
    _, _, logits = model(x)
    loss = F.cross_entropy(logits, y)
    base_opt.zero_grad(set_to_none=True)
    loss.backward()
    loss.item()
    base_opt.step()
    ema_update()


cpu = {}


def timed(fn, steps, name, warmup=1):
    out = []
    cpu[name] = []
    for _ in range(warmup):
        fn()
    for i in range(steps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        fn()
        out.append(time.perf_counter() - t0)
        cpu[name].append(time.process_time() - c0)
        log(f"[reference] {name} step {i + 1}/{steps}: {out[-1]:.3f} s wall, {cpu[name][-1]:.3f} s cpu")
    return out


def text_pass():
    feats = prompt(clip)
    feats.sum().backward()
    prompt.ctx.grad = None


base = timed(baseline_step, args.baseline_steps, "baseline")
text = timed(text_pass, 1, "text", warmup=0)
lico = timed(lico_step, args.steps, "lico", warmup=args.lico_warmup)
print(json.dumps({
    "licoStepSeconds": lico,
    "baselineStepSeconds": base,
    "textPassSeconds": text,
    "licoStepCpuSeconds": cpu["lico"],
    "baselineStepCpuSeconds": cpu["baseline"],
    "textPassCpuSeconds": cpu["text"],
    "threads": args.threads,
    "batch": args.batch,
    "torch": torch.__version__,
    "script": "tools/bench/lico-step-reference.py",
    "env": env,
}))
