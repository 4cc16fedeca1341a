"""The adaptation benchmark's setting in PyTorch: is a gain tl misses a gain the method misses?

`Benchmarks/seeds/adaptation.tl` measures DANN, DDC (linear MMD) and DAN (MK-MMD) against source
only on mnist → mnistm with the DANN paper's digit network (conv 32@5 → pool → conv 48@5 → pool →
100 → 100 → 10), 6 000 labelled source and 3 000 unlabelled target digits, 3 epochs, batch 64,
3 000 target digits to test, seeds 1–5. This script trains the same networks on the same digits
(written by tl itself, `--tl`) with PyTorch, as tl trains them by default:
- weights He-uniform ±√(6/fan_in), biases ±1/√fan_in (tl's draw; the output layers of `cnn()` and
  of the domain classifier, an `mlp()`, ±1/√fan_in as PyTorch draws them);
- SGD lr 0.01 momentum 0.9 constant (`sgd`), the same on DANN's rate schedule
  lr / (1 + 10p)^0.75 (`sgd-dann`), or Adam lr 0.001 (`adam`);
- DANN: the domain classifier 768 → 100 → 2 on the flatten behind a gradient reversal, one pass
  over the 64 source and 64 target digits, λ = 0.3·(2 / (1 + e^(−10p)) − 1), the weights averaged
  a ← 0.95·a + 0.05·w after each step and the average tested (tl's `ema=0.95`);
- DDC / DAN: ‖mean difference‖² at weight 0.1 / MK-MMD (five Gaussian kernels, bandwidths the
  pooled batch's median squared distance × 2^(−2…2)) at weight 1, on the input of the last linear
  layer, the weight ramped as λ is; no averaging.
`--entropy W` and `--vat W` add VADA's target terms to DANN (Shu et al. 2018): the target
predictions' conditional entropy and virtual adversarial training (one power iteration, radius
`--vat-eps`), both ramped as λ is; `--vat-source W` adds virtual adversarial training on the source
digits too (not ramped).

Usage (from the repository's root; tl built with `swift build -c release`):
  .venv-peers/bin/python Benchmarks/peers/adaptation_seeds.py --tl .build/release/tl
      [--methods source,dann,mmd,mkmmd] [--optimizers sgd,sgd-dann,adam] [--seeds 1,2,3,4,5]
      [--entropy W] [--vat W] [--vat-source W] [--vat-eps E] [--threads N]
      [--source S --target T --net paper|cnn --disc-layers 1|2 --train N --target-train N --test N --epochs E]
Each run prints its target accuracy; each optimiser ends with the mean ± sd of each method and
its gains over source only (mean, lowest). About 10 minutes on 2 cores for everything.
"""
from common import pin_threads_from_argv, env_info, print_header

THREADS = pin_threads_from_argv(2)

import argparse
import copy
import math
import os
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from reversal import GradientReversal

torch.set_num_threads(THREADS)


def write_digits(tl, directory, seeds, args):
    """tl writes each seed's source, target and test digits to .npz, as the benchmark draws them."""
    lines = []
    for s in seeds:
        lines += [f'save(digits({args.train}, style="{args.source}", seed={s}), "{directory}/src{s}.npz")',
                  f'save(digits({args.target_train}, style="{args.target}", seed={s + 500}), "{directory}/tgt{s}.npz")',
                  f'save(digits({args.test}, style="{args.target}", seed={s + 1000}), "{directory}/test{s}.npz")']
    script = os.path.join(directory, "digits.tl")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([tl, script], check=True)


def load(path):
    d = np.load(path)
    return torch.from_numpy(d["x"]), torch.from_numpy(d["y"]).long()


def network(kind):
    """The DANN paper's digit network, or tl's `cnn()` (conv 16@5 → pool → conv 32@5 → pool → 128 → 10),
    with the width of their flatten, where DANN's domain classifier reads."""
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(3, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10)), 512
    return nn.Sequential(nn.Conv2d(3, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 48, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(768, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)), 768


def he_uniform(model, last=True):
    """tl's draw: He-uniform weights; the last layer's too unless `last` is false (tl's `cnn()` and
    `mlp()` draw their output layer as PyTorch does, `linear()` always He)."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for layer in layers if last else layers[:-1]:
        bound = math.sqrt(6 / layer.weight[0].numel())
        nn.init.uniform_(layer.weight, -bound, bound)
    return model


def ramp(progress):
    return 2 / (1 + math.exp(-10 * progress)) - 1


def linear_mmd(s, t):
    d = s.mean(0) - t.mean(0)
    return (d * d).sum()


def mk_mmd(s, t, kernels=5, multiplier=2.0):
    pooled = torch.cat([s, t])
    sq = (pooled * pooled).sum(1, keepdim=True)
    d = (sq + sq.T - 2 * pooled @ pooled.T).clamp_min(0)
    n, ns = len(pooled), len(s)
    off = d.detach()[~torch.eye(n, dtype=torch.bool)].sort().values  # the median as tl takes it
    m = off.numel()
    base = max((off[m // 2] if m % 2 else (off[m // 2 - 1] + off[m // 2]) / 2).item(), 1e-12)
    k = sum(torch.exp(-d / (base * multiplier ** (i - kernels // 2))) for i in range(kernels))
    return k[:ns, :ns].mean() + k[ns:, ns:].mean() - 2 * k[:ns, ns:].mean()


def kl(p_logits, q_logits):
    p = F.softmax(p_logits, 1)
    return (p * (F.log_softmax(p_logits, 1) - F.log_softmax(q_logits, 1))).sum(1).mean()


def vat_loss(model, x, logits, eps, xi=1e-6):
    """Virtual adversarial training: the KL between the predictions at x and at x + r, r of norm eps
    in the direction one power iteration finds most sensitive."""
    def unit(v):
        return v / (v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1))) + 1e-12)
    d = unit(torch.randn_like(x)).requires_grad_(True)
    grad, = torch.autograd.grad(kl(logits.detach(), model(x + xi * d)), d)
    return kl(logits.detach(), model(x + eps * unit(grad).detach()))


def entropy(logits):
    return -(F.softmax(logits, 1) * F.log_softmax(logits, 1)).sum(1).mean()


def run(method, optimiser, xs, ys, xt, xe, ye, seed, args):
    torch.manual_seed(seed)
    net, width = network(args.net)
    net = he_uniform(net, last=args.net == "paper")
    features, head = net[:7], net[7:]
    hidden = [nn.Linear(width, 100), nn.ReLU()] + ([nn.Linear(100, 100), nn.ReLU()] if args.disc_layers == 2 else [])
    disc = he_uniform(nn.Sequential(*hidden, nn.Linear(100, 2)), last=False)  # tl's mlp([…, 2])
    params = list(net.parameters()) + (list(disc.parameters()) if method == "dann" else [])
    lr = 0.001 if optimiser == "adam" else 0.01
    opt = torch.optim.Adam(params, lr) if optimiser == "adam" else torch.optim.SGD(params, lr, momentum=0.9)
    average = copy.deepcopy(net) if method == "dann" else None
    batch, epochs = 64, args.epochs
    per_epoch = (len(xs) + batch - 1) // batch
    total, step = epochs * per_epoch, 0
    for _ in range(epochs):
        order, target_order, ti = torch.randperm(len(xs)), torch.randperm(len(xt)), 0
        for i in range(per_epoch):
            progress = step / total
            if optimiser == "sgd-dann":
                for group in opt.param_groups:
                    group["lr"] = lr / (1 + 10 * progress) ** 0.75
            b = order[i * batch:(i + 1) * batch]
            if ti + len(b) > len(xt):
                target_order, ti = torch.randperm(len(xt)), 0
            x_s, y_s, x_t = xs[b], ys[b], xt[target_order[ti:ti + len(b)]]
            ti += len(b)
            if method == "source":
                loss = F.cross_entropy(net(x_s), y_s)
            elif method == "dann":
                h = features(torch.cat([x_s, x_t]))
                logits = head(h)
                loss = F.cross_entropy(logits[:len(x_s)], y_s)
                domains = torch.cat([torch.zeros(len(x_s)), torch.ones(len(x_t))]).long()
                loss = loss + F.cross_entropy(disc(GradientReversal.apply(h, 0.3 * ramp(progress))), domains)
                if args.entropy:
                    loss = loss + args.entropy * ramp(progress) * entropy(logits[len(x_s):])
                if args.vat:
                    loss = loss + args.vat * ramp(progress) * vat_loss(net, x_t, logits[len(x_s):], args.vat_eps)
                if args.vat_source:
                    loss = loss + args.vat_source * vat_loss(net, x_s, logits[:len(x_s)], args.vat_eps)
            else:
                cut = net[:-1]
                hs, ht = cut(x_s), cut(x_t)
                discrepancy = linear_mmd(hs, ht) * 0.1 if method == "mmd" else mk_mmd(hs, ht)
                loss = F.cross_entropy(net[-1](hs), y_s) + ramp(progress) * discrepancy
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if average is not None:
                with torch.no_grad():
                    for a, w in zip(average.parameters(), net.parameters()):
                        a.mul_(0.95).add_(w, alpha=0.05)
    tested = average if average is not None else net
    with torch.no_grad():
        return (tested(xe).argmax(1) == ye).float().mean().item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tl", help="tl's executable, which writes the digits")
    p.add_argument("--data", help="a directory that already holds src/tgt/test{seed}.npz")
    p.add_argument("--methods", default="source,dann,mmd,mkmmd")
    p.add_argument("--optimizers", default="sgd,sgd-dann,adam")
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--source", default="mnist")
    p.add_argument("--target", default="mnistm")
    p.add_argument("--net", choices=["paper", "cnn"], default="paper")
    p.add_argument("--disc-layers", type=int, choices=[1, 2], default=1)
    p.add_argument("--train", type=int, default=6000)
    p.add_argument("--target-train", type=int, default=3000)
    p.add_argument("--test", type=int, default=3000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--entropy", type=float, default=0.0)
    p.add_argument("--vat", type=float, default=0.0)
    p.add_argument("--vat-source", type=float, default=0.0)
    p.add_argument("--vat-eps", type=float, default=1.0)
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",")
    if not args.data and not args.tl:
        p.error("give --tl (tl's executable, to write the digits) or --data")
    print_header(env_info(THREADS))
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.data or scratch
        if not args.data:
            write_digits(args.tl, directory, seeds, args)
        data = {s: (load(f"{directory}/src{s}.npz"), load(f"{directory}/tgt{s}.npz")[0], load(f"{directory}/test{s}.npz")) for s in seeds}
        for optimiser in args.optimizers.split(","):
            results = {m: [] for m in methods}
            for s in seeds:
                (xs, ys), xt, (xe, ye) = data[s]
                line = []
                for m in methods:
                    start = time.time()
                    results[m].append(run(m, optimiser, xs, ys, xt, xe, ye, s, args))
                    line.append(f"{m} {results[m][-1]:.3f} ({time.time() - start:.0f} s)")
                print(f"{optimiser} seed {s}: " + ", ".join(line), flush=True)
            for m in methods:
                r = np.array(results[m])
                text = f"{optimiser} {m}: {r.mean():.3f} ± {r.std(ddof=1) if len(r) > 1 else 0:.3f}"
                if m != "source" and "source" in results:
                    gains = r - np.array(results["source"])
                    text += f", gain {gains.mean():+.3f}, lowest {gains.min():+.3f}"
                print(text, flush=True)


if __name__ == "__main__":
    main()
