"""ResNet-18 training throughput in PyTorch eager (CPU, fp32), as Benchmarks/workloads/resnet.tl.

torchvision's ResNet-18 (basic blocks [2, 2, 2, 2], 10 classes), written out here in plain torch
so the peers need no torchvision: the same modules and operators. Synthetic data: --samples
images 3×S×S ~ U[0,1), random labels (seed 0); contiguous batches; SGD lr 0.01, momentum 0.9;
warm-up steps, then --epochs timed epochs; inference in eval mode under no_grad.
Figure: samples/s per epoch, median (min-max).

Usage: python resnet_train.py [--threads N] [--batch 32] [--samples 640] [--size 64] [--epochs 3] [--json]
"""
from common import pin_threads_from_argv, stats, env_info, print_header

THREADS = pin_threads_from_argv(2)

import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(THREADS)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, inplanes = [], 64
        for stage, planes in enumerate((64, 128, 256, 512)):
            stride = 1 if stage == 0 else 2
            layers.append(nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--samples", type=int, default=640)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    info = env_info(THREADS)
    if not args.json:
        print_header(info)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((args.samples, 3, args.size, args.size), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 10, size=args.samples).astype(np.int64))
    torch.manual_seed(0)
    model = ResNet18()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    bs, nb = args.batch, args.samples // args.batch

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[i * bs:(i + 1) * bs]), y[i * bs:(i + 1) * bs])
        loss.backward()
        opt.step()
        return loss

    model.train()
    for i in range(args.warmup_steps):
        step(i % nb)
    rates = []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        for i in range(nb):
            loss = step(i)
        rates.append(nb * bs / (time.perf_counter() - t0))
    model.eval()
    fw = []
    with torch.no_grad():
        for _ in range(args.epochs):
            t0 = time.perf_counter()
            for i in range(nb):
                model(x[i * bs:(i + 1) * bs])
            fw.append(nb * bs / (time.perf_counter() - t0))
    r, rf = stats(rates), stats(fw)
    out = {"bench": "resnet_train", "unit": "samples/s", "env": info, "batch": bs, "size": args.size,
           "results": {"torch_train": dict(r, last_loss=loss.item()), "torch_infer": rf}}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"torch train bs={bs} {args.size}x{args.size}: {r['median']:.1f} samples/s ({r['min']:.1f}-{r['max']:.1f})")
        print(f"torch inference: {rf['median']:.1f} samples/s ({rf['min']:.1f}-{rf['max']:.1f})")


if __name__ == "__main__":
    main()
