#!/usr/bin/env python3
"""Parity reference for @lico/text's CLIP text transformer.

Builds a small random CLIP text model in PyTorch, written here to follow Hugging Face's
`CLIPTextTransformer` (token + position embedding, pre-LN causal self-attention blocks with
q scaled by head_dim**-0.5, quick-GELU MLP, final layer norm, pooling at the end-of-text token,
`text_projection` without bias), saves it in the Hugging Face layout (`config.json` +
`model.safetensors`, key names `text_model.…`) and records its outputs for fixed token ids.

Two model directories:
- clip-tiny-full: a full-CLIP-style checkpoint (CLIPConfig with text_config, legacy
  eos_token_id = 2 so pooling is at argmax(ids)), float32, plus vision keys that must be skipped;
- clip-tiny-text-f16: a text-only checkpoint (CLIPTextConfig with projection_dim) in float16.

Usage: /usr/bin/python3 tools/reference/text-clip.py
"""
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'packages', 'text', 'src', '__golden__')

V, E, LAYERS, HEADS, I4, L, P = 754, 32, 2, 4, 64, 16, 24  # V, start and end ids as the toy tokenizer of text-tokenizer.py
BOS, EOS = V - 2, V - 1


def make_weights(seed):
    g = torch.Generator().manual_seed(seed)
    n = lambda *s, std=0.2: torch.randn(*s, generator=g) * std
    w = {
        'text_model.embeddings.token_embedding.weight': n(V, E, std=0.5),
        'text_model.embeddings.position_embedding.weight': n(L, E, std=0.3),
        'text_model.final_layer_norm.weight': 1 + n(E, std=0.1),
        'text_model.final_layer_norm.bias': n(E, std=0.1),
        'text_projection.weight': n(P, E, std=0.2),
    }
    for i in range(LAYERS):
        p = f'text_model.encoder.layers.{i}'
        for name in ['q_proj', 'k_proj', 'v_proj', 'out_proj']:
            w[f'{p}.self_attn.{name}.weight'] = n(E, E, std=E ** -0.5)
            w[f'{p}.self_attn.{name}.bias'] = n(E, std=0.1)
        for name in ['layer_norm1', 'layer_norm2']:
            w[f'{p}.{name}.weight'] = 1 + n(E, std=0.1)
            w[f'{p}.{name}.bias'] = n(E, std=0.1)
        w[f'{p}.mlp.fc1.weight'] = n(I4, E, std=E ** -0.5)
        w[f'{p}.mlp.fc1.bias'] = n(I4, std=0.1)
        w[f'{p}.mlp.fc2.weight'] = n(E, I4, std=I4 ** -0.5)
        w[f'{p}.mlp.fc2.bias'] = n(E, std=0.1)
    return w


def clip_text_forward(w, ids, eos_rule):
    """Hugging Face CLIPTextTransformer + text_projection, float64 for a tight reference."""
    w = {k: v.double() for k, v in w.items()}
    b, l = ids.shape
    x = w['text_model.embeddings.token_embedding.weight'][ids] + w['text_model.embeddings.position_embedding.weight'][:l]
    mask = torch.full((l, l), float('-inf'), dtype=torch.float64).triu(1)
    ln = lambda t, pre: torch.nn.functional.layer_norm(t, (E,), w[f'{pre}.weight'], w[f'{pre}.bias'], 1e-5)
    lin = lambda t, pre: t @ w[f'{pre}.weight'].T + w[f'{pre}.bias']
    dh = E // HEADS
    for i in range(LAYERS):
        p = f'text_model.encoder.layers.{i}'
        h = ln(x, f'{p}.layer_norm1')
        q = lin(h, f'{p}.self_attn.q_proj') * dh ** -0.5
        k = lin(h, f'{p}.self_attn.k_proj')
        v = lin(h, f'{p}.self_attn.v_proj')
        split = lambda t: t.view(b, l, HEADS, dh).transpose(1, 2)
        att = torch.softmax(split(q) @ split(k).transpose(-1, -2) + mask, dim=-1) @ split(v)
        x = x + lin(att.transpose(1, 2).reshape(b, l, E), f'{p}.self_attn.out_proj')
        h = ln(x, f'{p}.layer_norm2')
        h = lin(h, f'{p}.mlp.fc1')
        h = h * torch.sigmoid(1.702 * h)
        x = x + lin(h, f'{p}.mlp.fc2')
    x = ln(x, 'text_model.final_layer_norm')
    if eos_rule == 'argmax':
        pos = ids.argmax(dim=-1)
    else:
        pos = (ids == EOS).int().argmax(dim=-1)
    pooled = x[torch.arange(b), pos]
    return pooled @ w['text_projection.weight'].T


def save_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for key in sorted(tensors):
        arr = tensors[key].numpy().astype(np.float16 if dtype == 'F16' else np.float32)
        data = arr.tobytes()
        header[key] = {'dtype': dtype, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * ((8 - len(raw) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def main():
    w = make_weights(0)
    ids = torch.tensor([
        [BOS, 5, 17, 42, EOS, 0, 0, 0, 0, 0, 0, 0],
        [BOS, 200, EOS, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [BOS, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, EOS],
    ])
    text_cfg = {
        'vocab_size': V, 'hidden_size': E, 'num_hidden_layers': LAYERS, 'num_attention_heads': HEADS,
        'intermediate_size': I4, 'max_position_embeddings': L, 'hidden_act': 'quick_gelu',
        'layer_norm_eps': 1e-5, 'bos_token_id': 0, 'eos_token_id': 2, 'pad_token_id': 1,
    }
    results = {}
    # full CLIP style, float32, legacy eos id -> argmax pooling, extra vision keys
    d = os.path.join(OUT, 'clip-tiny-full')
    os.makedirs(d, exist_ok=True)
    json.dump({'architectures': ['CLIPModel'], 'projection_dim': P, 'text_config': text_cfg, 'vision_config': {'hidden_size': 4}}, open(os.path.join(d, 'config.json'), 'w'), indent=1)
    full = dict(w)
    full['vision_model.embeddings.class_embedding'] = torch.zeros(4)
    full['visual_projection.weight'] = torch.zeros(P, 4)
    full['logit_scale'] = torch.tensor(2.6592)
    save_safetensors(os.path.join(d, 'model.safetensors'), full, 'F32')
    results['clip-tiny-full'] = clip_text_forward(w, ids, 'argmax').tolist()
    # text-only, float16 weights (the reference uses the same rounded weights)
    d = os.path.join(OUT, 'clip-tiny-text-f16')
    os.makedirs(d, exist_ok=True)
    json.dump({'architectures': ['CLIPTextModelWithProjection'], **text_cfg, 'bos_token_id': BOS, 'eos_token_id': EOS, 'projection_dim': P}, open(os.path.join(d, 'config.json'), 'w'), indent=1)
    save_safetensors(os.path.join(d, 'model.safetensors'), w, 'F16')
    w16 = {k: v.half().float() for k, v in w.items()}
    results['clip-tiny-text-f16'] = clip_text_forward(w16, ids, 'first-eos').tolist()
    golden = {
        'script': 'tools/reference/text-clip.py',
        'versions': {'python': sys.version.split()[0], 'torch': torch.__version__, 'numpy': np.__version__},
        'config': {'vocab': V, 'width': E, 'layers': LAYERS, 'heads': HEADS, 'intermediate': I4, 'context': L, 'projection': P},
        'ids': ids.tolist(),
        'features': results,
    }
    json.dump(golden, open(os.path.join(OUT, 'clip-text.json'), 'w'))
    print('wrote', os.path.abspath(OUT))


if __name__ == '__main__':
    main()
