#!/usr/bin/env python3
"""One training step of the paper's harmonization model in eager PyTorch on the CPU — the reference
that `stripes bench train --preset paper` is compared with (docs/performance.md).

The same model as experiments/harmonization/model.hpp (preset "paper"):
  input_proj Linear 256 -> 512; 2 post-LN encoder layers, 4 heads (D = 128), d_ff 512, ReLU,
  dropout 0.1; attention = RoPEPool on BIN-like vector positions (L = 12), FAVOR+ with M = 128
  (orthogonal features redrawn every forward, the causal-safe query stabilizer), causal linear
  attention; output Linear 512 -> 384; mean BCE-with-logits; clip_grad_norm 5e-4; Adam lr 5e-4.
  Batch 8, T = 1024, synthetic Bernoulli(0.05) pianorolls, like `stripes bench train`.

The causal linear attention has no fused kernel in PyTorch; two eager formulations:
  --causal chunked   (default) chunks of 64: per chunk  A S + tril(A Bᵀ) C,  S += Bᵀ C  — what one
                     writes for speed in eager mode (the same algorithm as stripes' chunked product)
  --causal cumsum    torch.cumsum of the B·H·T·M·(D+1) outer products — the naive formulation

Run (the figures in docs/performance.md used PyTorch 2.15 from PyPI, whose Linux wheel runs on
the CPU with MKL; Debian 12's python3-torch 1.13 also works but its batched matmul runs at about
4 GFLOP/s, and without OpenBLAS installed its plain matmul at 1 GFLOP/s):
  python3 -m pip install torch                                   # or: pip install torch --index-url https://download.pytorch.org/whl/cpu
  python3 experiments/reference/harmonization_step.py --threads 2 --steps 3
  build/stripes bench train --preset paper --steps 3             # the same step in stripes
Run both on the same machine at the same time of day (alternate them on a shared machine); set
OMP_WAIT_POLICY=PASSIVE for both when the cores are shared (stripes sets it itself).
Prints seconds per step and tokens/s (B·T per step) and, with --json FILE, writes them.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def draw_orthogonal_projection(d, columns, generator):
    """W [d, columns]: blocks of d orthonormal columns, each column scaled by the norm of a N(0, I_d)."""
    blocks = []
    for start in range(0, columns, d):
        block = min(d, columns - start)
        q, r = torch.linalg.qr(torch.randn(d, d, generator=generator))
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
        norms = torch.randn(block, d, generator=generator).norm(dim=1)
        blocks.append(q[:, :block] * norms.unsqueeze(0))
    return torch.cat(blocks, dim=1)


def favor_features(x, projection, stabilize_query):
    """FAVOR+ positive features: [exp(u - |x'|²/2 - ½ln M - c), exp(-u - ... - c)], x' = x d^(-1/4), u = x'W."""
    d = x.shape[-1]
    m = 2 * projection.shape[1]
    scaled = x * d ** -0.25
    u = scaled @ projection
    half_norm = (scaled * scaled).sum(-1, keepdim=True) * 0.5 + 0.5 * math.log(m)
    positive, negative = u - half_norm, -u - half_norm
    if stabilize_query:
        shift = torch.cat([positive, negative], -1).amax(-1, keepdim=True)
        positive, negative = positive - shift, negative - shift
    return torch.cat([positive.exp(), negative.exp()], -1)


def causal_product_chunked(a, b, c, chunk=64):
    """out_t = Σ_{n<=t} (a_t·b_n) c_n, chunk by chunk. a, b: [..., T, P], c: [..., T, Q]."""
    steps = a.shape[-2]
    state = a.new_zeros(a.shape[:-2] + (a.shape[-1], c.shape[-1]))
    outputs = []
    mask = torch.ones(chunk, chunk, dtype=torch.bool).tril()
    for start in range(0, steps, chunk):
        end = min(start + chunk, steps)
        a_j, b_j, c_j = a[..., start:end, :], b[..., start:end, :], c[..., start:end, :]
        weights = (a_j @ b_j.transpose(-1, -2)).masked_fill(~mask[: end - start, : end - start], 0.0)
        outputs.append(a_j @ state + weights @ c_j)
        state = state + b_j.transpose(-1, -2) @ c_j
    return torch.cat(outputs, dim=-2)


def causal_product_cumsum(a, b, c):
    states = torch.cumsum(b.unsqueeze(-1) * c.unsqueeze(-2), dim=-3)  # [..., T, P, Q]
    return (a.unsqueeze(-2) @ states).squeeze(-2)


class RopePoolLinearAttention(nn.Module):
    def __init__(self, d_model, heads, features, position_dim, causal):
        super().__init__()
        self.heads, self.head_dim, self.features, self.causal = heads, d_model // heads, features, causal
        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        pairs = self.head_dim // 2
        # RoPE(B)'s per-head spectrum, learned (RoPEPool): f[h, j, l] = base_h^(-2j/D)
        bases = torch.tensor([10000.0 ** ((h + 1) / heads) for h in range(heads)])
        f = bases.view(heads, 1, 1) ** (-2.0 * torch.arange(pairs).view(1, pairs, 1) / self.head_dim)
        self.frequencies = nn.Parameter(f.expand(heads, pairs, position_dim).clone())
        self.generator = torch.Generator().manual_seed(3)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, positions):
        q, k, v = self.split(self.q_proj(x)), self.split(self.k_proj(x)), self.split(self.v_proj(x))
        angles = positions.unsqueeze(1) @ self.frequencies.transpose(-1, -2)  # [B, H, T, D/2]
        cos, sin = angles.cos(), angles.sin()

        def pool(a):  # RoPEPool: per pair, the sum of the two rotated coordinates
            first, second = a[..., 0::2], a[..., 1::2]
            return (first * cos - second * sin) + (second * cos + first * sin)

        projection = draw_orthogonal_projection(self.head_dim // 2, self.features // 2, self.generator)
        phi_q = favor_features(pool(q), projection, True)
        phi_k = favor_features(pool(k), projection, False)
        values_and_ones = torch.cat([v, torch.ones_like(v[..., :1])], -1)
        product = self.causal(phi_q, phi_k, values_and_ones)
        y = product[..., :-1] / (product[..., -1:] + 1e-6)
        b, h, t, d = y.shape
        return self.out_proj(y.transpose(1, 2).reshape(b, t, h * d))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, heads, d_ff, features, position_dim, dropout, causal):
        super().__init__()
        self.attn = RopePoolLinearAttention(d_model, heads, features, position_dim, causal)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = dropout

    def forward(self, x, positions):
        x = self.norm1(x + F.dropout(self.attn(x, positions), self.dropout, self.training))
        hidden = F.dropout(F.relu(self.linear1(x)), self.dropout, self.training)
        return self.norm2(x + F.dropout(self.linear2(hidden), self.dropout, self.training))


class HarmonizationModel(nn.Module):
    def __init__(self, causal, d_model=512, heads=4, layers=2, d_ff=512, features=128, position_dim=12, dropout=0.1):
        super().__init__()
        self.input_proj = nn.Linear(256, d_model)
        self.layers = nn.ModuleList(
            [EncoderLayer(d_model, heads, d_ff, features, position_dim, dropout, causal) for _ in range(layers)])
        self.output_proj = nn.Linear(d_model, 384)
        self.dropout = dropout

    def forward(self, x, positions):
        h = F.dropout(self.input_proj(x), self.dropout, self.training)
        for layer in self.layers:
            h = layer(h, positions)
        return self.output_proj(h)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--T", type=int, default=1024)
    parser.add_argument("--causal", choices=["chunked", "cumsum"], default="chunked")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    causal = causal_product_chunked if args.causal == "chunked" else causal_product_cumsum
    model = HarmonizationModel(causal)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    x = torch.bernoulli(torch.full((args.batch, args.T, 256), 0.05))
    target = torch.bernoulli(torch.full((args.batch, args.T, 384), 0.05))
    positions = torch.bernoulli(torch.full((args.batch, args.T, 12), 0.3))

    def step():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x, positions), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5e-4)
        optimizer.step()
        return loss.item()

    step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - start)
    seconds = sum(times) / len(times)
    tokens = args.batch * args.T
    result = {"framework": f"pytorch {torch.__version__} eager", "threads": torch.get_num_threads(),
              "causal": args.causal, "batch": args.batch, "T": args.T, "steps": args.steps,
              "seconds_per_step": seconds, "best_seconds": min(times), "tokens_per_second": tokens / seconds,
              "parameters": sum(p.numel() for p in model.parameters()), "loss": loss}
    print(f"pytorch {torch.__version__} eager, {result['threads']} threads, causal {args.causal}: "
          f"{seconds:.3f} s/step (best {min(times):.3f}), {tokens / seconds:.0f} tokens/s, "
          f"{result['parameters']} parameters, loss {loss:.4f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
