"""PixelDA (pixel-level domain adaptation) training step throughput in PyTorch eager (CPU, fp32),
as Benchmarks/workloads/pixelda.tl and tl's Trainer.fitPixelDA.

Generator G: 3x3 convolutions 4->32->32->32->3 (padding 1, ReLU between, tanh at the end) on the
source image with one channel of noise ~ U[-1,1]; the generated image is source + G(...).
Discriminator D: conv 3->32 3x3 stride 2 pad 1, ReLU, conv 32->64 3x3 stride 2 pad 1, ReLU,
flatten 3136 -> linear 2. Task classifier C: tl's cnn() on 3x28x28 (conv 3->16 5x5, ReLU, pool 2,
conv 16->32 5x5, ReLU, pool 2, linear 512->128, ReLU, linear 128->10).
Each step, 64 labelled source and 64 unlabelled target images: D's cross-entropy on real target
(1) and detached generated (0) images; the generator's non-saturating loss, D(fake) labelled real
through D with its weights fixed (weight 0.1); the task loss CE(C(fake)) + CE(C(source)); the
content loss, the squared difference over the source's foreground (pixels above half the image's
maximum) per image, averaged; one backward of the sum, SGD lr 0.01 momentum 0.9 on all three.
Synthetic data (seed 0): source ~ U[0,1), target ~ 0.5*U[0,1)+0.25, random labels.
Figure: steps/s per window of --steps steps, median (min-max) over --repeats windows.

Usage: python pixelda_step.py [--threads N] [--steps 40] [--repeats 3] [--json]
"""
from common import pin_threads_from_argv, stats, env_info, print_header

THREADS = pin_threads_from_argv(2)

import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(THREADS)

BS = 64


def generator():
    return nn.Sequential(nn.Conv2d(4, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 3, 3, padding=1), nn.Tanh())


def discriminator():
    return nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2, padding=1),
                         nn.ReLU(), nn.Flatten(), nn.Linear(3136, 2))


def classifier():
    return nn.Sequential(nn.Conv2d(3, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10))


def foreground_mse(fake, source):
    n = source.shape[0]
    s = source.reshape(n, -1)
    mask = (s > s.max(dim=1, keepdim=True).values / 2).float()
    d = (fake.reshape(n, -1) - s) * mask
    return ((d * d).sum(dim=1) / (mask.sum(dim=1) + 1e-6)).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup-steps", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    info = env_info(THREADS)
    if not args.json:
        print_header(info)
    n = BS * args.steps
    rng = np.random.default_rng(0)
    xs = torch.from_numpy(rng.random((n, 3, 28, 28), dtype=np.float32))
    ys = torch.from_numpy(rng.integers(0, 10, size=n).astype(np.int64))
    xt = torch.from_numpy((0.5 * rng.random((n, 3, 28, 28), dtype=np.float32) + 0.25).astype(np.float32))
    torch.manual_seed(0)
    G, D, C = generator(), discriminator(), classifier()
    opt = torch.optim.SGD(list(G.parameters()) + list(D.parameters()) + list(C.parameters()), lr=0.01, momentum=0.9)
    real, generated = torch.ones(BS, dtype=torch.int64), torch.zeros(BS, dtype=torch.int64)

    def step(i):
        j = i % args.steps
        s, y, t = xs[j * BS:(j + 1) * BS], ys[j * BS:(j + 1) * BS], xt[j * BS:(j + 1) * BS]
        opt.zero_grad(set_to_none=True)
        noise = torch.rand(BS, 1, 28, 28) * 2 - 1
        fake = s + G(torch.cat([s, noise], 1))
        d_loss = F.cross_entropy(D(t), real) + F.cross_entropy(D(fake.detach()), generated)
        for p in D.parameters():
            p.requires_grad_(False)
        fooling = F.cross_entropy(D(fake), real)
        for p in D.parameters():
            p.requires_grad_(True)
        task = F.cross_entropy(C(fake), y) + F.cross_entropy(C(s), y)
        content = foreground_mse(fake, s)
        loss = d_loss + 0.1 * fooling + task + content
        loss.backward()
        opt.step()
        return loss

    for i in range(args.warmup_steps):
        step(i)
    rates, loss, k = [], None, 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step(k)
            k += 1
        rates.append(args.steps / (time.perf_counter() - t0))
    r = stats(rates)
    out = {"bench": "pixelda_step", "unit": "steps/s", "env": info, "batch": {"source": BS, "target": BS},
           "results": {"torch": dict(r, samples_per_s=r["median"] * 2 * BS, last_loss=float(loss.item()))}}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"torch PixelDA: {r['median']:.2f} steps/s ({r['min']:.2f}-{r['max']:.2f}, {r['n']} windows of "
              f"{args.steps}); last loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
