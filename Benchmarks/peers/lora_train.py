"""LoRA fine-tuning throughput in PyTorch eager (CPU, fp32), as Benchmarks/workloads/lora.tl.

The MLP 784-256-128-10 (ReLU) with every linear layer wrapped by a hand-written LoRALinear: the
layer's weight and bias frozen, beside it a rank-r update (alpha/r)·B·A, A of r×in drawn as
PEFT draws it (Kaiming-uniform, a = √5) and B of out×r at zero, alpha = r; y = W·x + b +
(alpha/r)·B·(A·x), computed as two thin products as PEFT's LoRA layer does. Only A and B train:
softmax cross-entropy, plain SGD lr 0.01. Synthetic data: 60000 samples ~ U[0,1), random labels
(seed 0), contiguous batches, the last partial batch dropped. Per batch size a fresh model,
--warmup-steps steps, then --epochs timed epochs; figure = samples/s per epoch, median (min-max).

Usage: python lora_train.py [--threads N] [--batches 32,128] [--rank 8] [--epochs 3] [--json]
"""
from common import pin_threads_from_argv, stats, env_info, print_header

THREADS = pin_threads_from_argv(2)

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(THREADS)

N_SAMPLES, SIZES, LR = 60000, (784, 256, 128, 10), 0.01


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale


def make_model(rank):
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(LoRALinear(nn.Linear(SIZES[i], SIZES[i + 1]), rank, float(rank)))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def check_lora():
    """The wrapped model starts as the plain one (B = 0) and trains only A and B."""
    torch.manual_seed(1)
    m = make_model(4)
    plain = nn.Sequential(*[l.base if isinstance(l, LoRALinear) else l for l in m])
    x = torch.rand(3, SIZES[0])
    same = torch.equal(m(x), plain(x))
    trainable = sum(p.numel() for p in m.parameters() if p.requires_grad)
    expected = sum(4 * (a + b) for a, b in zip(SIZES[:-1], SIZES[1:]))
    return bool(same and trainable == expected)


def bench(x, y, bs, rank, epochs, warmup_steps):
    torch.manual_seed(0)
    model = make_model(rank)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=LR)
    nb = N_SAMPLES // bs

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[i * bs:(i + 1) * bs]), y[i * bs:(i + 1) * bs])
        loss.backward()
        opt.step()
        return loss

    for i in range(warmup_steps):
        step(i % nb)
    rates, loss = [], None
    for _ in range(epochs):
        t0 = time.perf_counter()
        for i in range(nb):
            loss = step(i)
        rates.append(nb * bs / (time.perf_counter() - t0))
    return stats(rates), float(loss.item())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--warmup-steps", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    info = env_info(THREADS)
    if not args.json:
        print_header(info)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((N_SAMPLES, SIZES[0]), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, SIZES[-1], size=N_SAMPLES).astype(np.int64))
    ok = check_lora()
    results = {}
    for bs in [int(b) for b in args.batches.split(",")]:
        r, loss = bench(x, y, bs, args.rank, args.epochs, args.warmup_steps)
        results[f"torch_bs{bs}"] = dict(r, last_loss=loss)
        if not args.json:
            print(f"torch LoRA rank {args.rank}, batch {bs}: {r['median']:.0f} samples/s "
                  f"({r['min']:.0f}-{r['max']:.0f}); last loss {loss:.4f}")
    out = {"bench": "lora_train", "unit": "samples/s", "env": info, "lora_check": ok, "rank": args.rank,
           "results": results}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"LoRA check (starts as the base model, trains A and B only): {'ok' if ok else 'FAILED'}")


if __name__ == "__main__":
    main()
