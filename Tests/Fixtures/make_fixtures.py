#!/usr/bin/env python3
"""Reference values for tl's tests, computed by PyTorch and NumPy.

    python make_fixtures.py            # write the fixture files beside this script
    python make_fixtures.py --check D  # read files tl wrote into D with PyTorch and NumPy

Needs numpy, torch, torchvision, Pillow and safetensors (see ../../README.md, "Fixtures"). The outputs are small and
committed, so the Swift tests never need Python. Every tensor is float32; class ids are int64.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


def grads_of(fn, inputs, seed_name, store, prefix):
    """y = fn(*inputs); loss = sum(y * r) with a random r; stores y, r and every input's grad."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    y = fn(*leaves)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    store[f"{prefix}.y"] = y.detach()
    store[f"{prefix}.r"] = r
    for i, leaf in enumerate(leaves):
        store[f"{prefix}.in{i}"] = leaf.detach()
        store[f"{prefix}.grad{i}"] = leaf.grad


def layers():
    torch.manual_seed(0)
    s = {}
    x, w, b = torch.randn(4, 5), torch.randn(3, 5), torch.randn(3)
    grads_of(lambda x, w, b: F.linear(x, w, b), [x, w, b], "r", s, "linear")

    x, w, b = torch.randn(2, 3, 7, 7), torch.randn(4, 3, 3, 3), torch.randn(4)
    grads_of(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [x, w, b], "r", s, "conv")
    x, w = torch.randn(2, 2, 6, 5), torch.randn(3, 2, 2, 3)
    grads_of(lambda x, w: F.conv2d(x, w), [x, w], "r", s, "conv_plain")

    grads_of(lambda x: F.max_pool2d(x, 2), [torch.randn(2, 3, 6, 6)], "r", s, "maxpool")
    grads_of(lambda x: F.max_pool2d(x, 3, stride=2), [torch.randn(1, 2, 7, 7)], "r", s, "maxpool_stride")

    for name, shape in (("bn2d", (4, 3, 5, 5)), ("bn1d", (6, 4))):
        c = shape[1]
        bn = nn.BatchNorm2d(c) if len(shape) == 4 else nn.BatchNorm1d(c)
        with torch.no_grad():
            bn.weight.copy_(torch.randn(c))
            bn.bias.copy_(torch.randn(c))
        s[f"{name}.weight"] = bn.weight.detach().clone()
        s[f"{name}.bias"] = bn.bias.detach().clone()
        x = torch.randn(*shape).requires_grad_(True)
        y = bn(x)
        r = torch.randn_like(y)
        (y * r).sum().backward()
        s[f"{name}.x"], s[f"{name}.y"], s[f"{name}.r"] = x.detach(), y.detach(), r
        s[f"{name}.grad_x"], s[f"{name}.grad_weight"], s[f"{name}.grad_bias"] = x.grad, bn.weight.grad, bn.bias.grad
        s[f"{name}.running_mean"], s[f"{name}.running_var"] = bn.running_mean.clone(), bn.running_var.clone()
        bn.eval()
        s[f"{name}.y_eval"] = bn(x.detach()).detach()

    grads_of(lambda x: F.softmax(x, dim=1), [torch.randn(3, 5)], "r", s, "softmax")
    grads_of(lambda x: F.log_softmax(x, dim=0), [torch.randn(4, 3)], "r", s, "log_softmax0")
    save_file({k: v.contiguous() for k, v in s.items()}, out("layers.safetensors"))


def losses():
    torch.manual_seed(1)
    s = {}
    logits = torch.randn(5, 4).requires_grad_(True)
    labels = torch.tensor([0, 3, 1, 1, 2])
    F.cross_entropy(logits, labels).backward()
    s["ce.logits"], s["ce.labels"], s["ce.grad"] = logits.detach(), labels, logits.grad
    s["ce.loss"] = F.cross_entropy(logits.detach(), labels).reshape(1)

    a, b = torch.randn(3, 4).requires_grad_(True), torch.randn(3, 4)
    loss = F.mse_loss(a, b)
    loss.backward()
    s["mse.a"], s["mse.b"], s["mse.loss"], s["mse.grad"] = a.detach(), b, loss.detach().reshape(1), a.grad

    z, t = (torch.randn(6) * 4).requires_grad_(True), (torch.rand(6) > 0.5).float()
    loss = F.binary_cross_entropy_with_logits(z, t)
    loss.backward()
    s["bce.logits"], s["bce.targets"], s["bce.loss"], s["bce.grad"] = z.detach(), t, loss.detach().reshape(1), z.grad

    scores, labels = torch.randn(5, 4).requires_grad_(True), torch.tensor([2, 0, 3, 3, 1])
    pos = scores.gather(1, labels[:, None])[:, 0]
    mask = F.one_hot(labels, 4).bool()
    neg = scores.masked_fill(mask, -3.0e38).max(dim=1).values
    loss = F.relu(0.5 - pos + neg).mean()
    loss.backward()
    s["hinge.scores"], s["hinge.labels"], s["hinge.loss"], s["hinge.grad"] = scores.detach(), labels, loss.detach().reshape(1), scores.grad

    # SDT's soft-label loss at temperature 2 and its domain confusion (against 1/2, 1/2), with
    # PyTorch's cross-entropy against class probabilities.
    logits, p = torch.randn(4, 3).requires_grad_(True), torch.softmax(torch.randn(4, 3), dim=1)
    loss = F.cross_entropy(logits / 2, p)
    loss.backward()
    s["soft.logits"], s["soft.targets"], s["soft.loss"], s["soft.grad"] = logits.detach(), p, loss.detach().reshape(1), logits.grad
    d = torch.randn(6, 2).requires_grad_(True)
    loss = F.cross_entropy(d, torch.full((6, 2), 0.5))
    loss.backward()
    s["confusion.logits"], s["confusion.loss"], s["confusion.grad"] = d.detach(), loss.detach().reshape(1), d.grad

    # Domain Separation Networks: the scale-invariant MSE (Eigen et al.'s form, per sample over its
    # values, averaged over the batch) and the difference loss on unit rows.
    pred, real = torch.randn(3, 2, 2, 2).requires_grad_(True), torch.rand(3, 2, 2, 2)
    diffs = (pred - real).reshape(3, -1)
    k = diffs.shape[1]
    loss = ((diffs ** 2).sum(1) / k - diffs.sum(1) ** 2 / k ** 2).mean()
    loss.backward()
    s["simse.pred"], s["simse.real"], s["simse.loss"], s["simse.grad"] = pred.detach(), real, loss.detach().reshape(1), pred.grad
    a, b = torch.randn(5, 4).requires_grad_(True), torch.randn(5, 3).requires_grad_(True)
    loss = (F.normalize(a, dim=1).t() @ F.normalize(b, dim=1)).pow(2).mean()
    loss.backward()
    s["difference.a"], s["difference.b"], s["difference.loss"] = a.detach(), b.detach(), loss.detach().reshape(1)
    s["difference.grad_a"], s["difference.grad_b"] = a.grad, b.grad

    # PixelDA's content loss: the squared error over each source image's foreground (pixels
    # above half its brightest), averaged per image, then over the batch.
    src, gen = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4).requires_grad_(True)
    flat = src.reshape(2, -1)
    mask = (flat > flat.max(dim=1, keepdim=True).values / 2).float()
    d = (gen.reshape(2, -1) - flat) * mask
    loss = ((d ** 2).sum(1) / (mask.sum(1) + 1e-6)).mean()
    loss.backward()
    s["content.source"], s["content.generated"], s["content.loss"], s["content.grad"] = src, gen.detach(), loss.detach().reshape(1), gen.grad
    save_file(s, out("losses.safetensors"))


def discrepancies():
    torch.manual_seed(2)
    s = {}
    src, tgt = torch.rand(6, 3), torch.rand(5, 3) * 0.8 + 0.1

    def linear_mmd(a, b):
        d = a.mean(0) - b.mean(0)
        return (d * d).sum()

    def sqdist(a, b):
        return F.relu((a * a).sum(1, keepdim=True) + (b * b).sum(1, keepdim=True).T - 2 * a @ b.T)

    def mk_mmd(a, b, kernels=5, mul=2.0):
        x = torch.cat([a, b])
        d = sqdist(x, x)
        n = x.shape[0]
        off = d.detach()[~torch.eye(n, dtype=torch.bool)]
        base = off.median() if off.numel() % 2 else off.sort().values[off.numel() // 2 - 1: off.numel() // 2 + 1].mean()
        k = sum(torch.exp(-d / (base * mul ** (i - kernels // 2))) for i in range(kernels))
        ns = a.shape[0]
        return k[:ns, :ns].mean() + k[ns:, ns:].mean() - 2 * k[:ns, ns:].mean()

    def coral(a, b):
        def cov(x):
            c = x - x.mean(0, keepdim=True)
            return c.T @ c / (x.shape[0] - 1)
        d = a.shape[1]
        return ((cov(a) - cov(b)) ** 2).sum() / (4 * d * d)

    def cmd(a, b, moments=5):
        ma, mb = a.mean(0), b.mean(0)
        total = (ma - mb).norm()
        ca, cb = a - ma, b - mb
        for k in range(2, moments + 1):
            total = total + ((ca ** k).mean(0) - (cb ** k).mean(0)).norm()
        return total

    for name, fn in (("mmd", linear_mmd), ("mkmmd", mk_mmd), ("coral", coral), ("cmd", cmd)):
        a, b = src.clone().requires_grad_(True), tgt.clone().requires_grad_(True)
        loss = fn(a, b)
        loss.backward()
        s[f"{name}.loss"], s[f"{name}.grad_s"], s[f"{name}.grad_t"] = loss.detach().reshape(1), a.grad, b.grad
    s["source"], s["target"] = src, tgt
    save_file(s, out("discrepancy.safetensors"))


def optimizers():
    torch.manual_seed(3)
    s = {}
    p0 = torch.randn(3, 4)
    g1, g2, g3 = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)
    s["p0"], s["g1"], s["g2"], s["g3"] = p0, g1, g2, g3
    configs = {
        "sgd": lambda p: torch.optim.SGD([p], lr=0.1),
        "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01),
        "sgd_nesterov": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True),
        "adam": lambda p: torch.optim.Adam([p], lr=0.01),
        "adam_wd": lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1),
    }
    for name, make in configs.items():
        p = p0.clone().requires_grad_(True)
        opt = make(p)
        for i, g in enumerate((g1, g2, g3)):
            p.grad = g.clone()
            opt.step()
            s[f"{name}.step{i + 1}"] = p.detach().clone()
    save_file(s, out("optimizers.safetensors"))


def model():
    """A small CNN: PyTorch writes its state dict; tl loads it and must agree on outputs and grads."""
    torch.manual_seed(4)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.Tanh(), nn.Linear(10, 3))
    x = torch.randn(5, 3, 8, 8)
    labels = torch.tensor([0, 2, 1, 1, 0])
    save_file(net.state_dict(), out("model.safetensors"))
    s = {"x": x, "labels": labels}
    net.train()
    y = net(x)
    loss = F.cross_entropy(y, labels)
    loss.backward()
    s["y"], s["loss"] = y.detach(), loss.detach().reshape(1)
    for name, p in net.named_parameters():
        s[f"grad.{name}"] = p.grad
    net.eval()
    s["y_eval"] = net(x).detach()
    save_file(s, out("model_io.safetensors"))


def formula(n, name):
    """n values in [0, 1) from an integer hash of their index and `name`, exact in float64, so that
    tl's tests (Tests/TLTransferTests/ResNetTests.swift) draw the same ones: weights for a whole
    ResNet without committing 47 MB of them."""
    seed = sum((i + 1) * ord(c) for i, c in enumerate(name)) % 1000003
    k = np.arange(n, dtype=np.uint64)
    return ((k * np.uint64(2654435761) + np.uint64(seed * 40503)) & np.uint64(0xFFFFFFFF)).astype(np.float64) / 2.0**32


def formula_tensor(name, shape):
    """A parameter or buffer of torchvision's ResNet by its state_dict name, drawn by `formula`."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = formula(n, name)
    last = name.rsplit(".", 1)[-1]
    if last == "weight" and len(shape) > 1:
        v = (2 * u - 1) * math.sqrt(3.0 / (n // shape[0]))
    elif last in ("weight", "running_var"):
        v = 0.5 + u
    else:  # biases and running means
        v = (u - 0.5) * 0.2
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def resnet():
    """Pooling with padding, adaptive pooling, a basic block in training, and torchvision's
    ResNet-18 with formula weights: tl must give the same logits through the same names."""
    import types
    # torchvision's compiled operators (nms, …) need its exact torch build; the models do not.
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    from torchvision.models import resnet18
    from torchvision.models.resnet import BasicBlock

    torch.manual_seed(5)
    s = {}
    grads_of(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [torch.randn(2, 3, 7, 8)], "r", s, "maxpool_pad")
    grads_of(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [torch.randn(2, 3, 7, 8)], "r", s, "avgpool_pad")
    grads_of(lambda x: F.avg_pool2d(x, 2), [torch.randn(1, 2, 6, 7)], "r", s, "avgpool")
    grads_of(lambda x: F.adaptive_avg_pool2d(x, 3), [torch.randn(2, 2, 7, 8)], "r", s, "adaptive3")
    grads_of(lambda x: F.adaptive_avg_pool2d(x, 1), [torch.randn(2, 4, 5, 5)], "r", s, "adaptive1")

    block = BasicBlock(4, 8, stride=2, downsample=nn.Sequential(nn.Conv2d(4, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8)))
    for name, value in block.state_dict().items():
        s[f"block.{name}"] = value.clone()
    x = torch.randn(3, 4, 7, 7).requires_grad_(True)
    y = block(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    s["block.x"], s["block.y"], s["block.r"], s["block.grad_x"] = x.detach(), y.detach(), r, x.grad
    for name, p in block.named_parameters():
        s[f"block.grad.{name}"] = p.grad
    for name, value in block.state_dict().items():
        if "running" in name:
            s[f"block.after.{name}"] = value.clone()

    net = resnet18()
    net.load_state_dict({name: formula_tensor(name, tuple(v.shape)) if v.dtype == torch.float32 else torch.zeros_like(v)
                         for name, v in net.state_dict().items()})
    net.eval()
    with torch.no_grad():
        for size in (64, 224):
            x = torch.from_numpy((2 * formula(2 * 3 * size * size, f"input{size}") - 1).astype(np.float32)).reshape(2, 3, size, size)
            s[f"resnet18.logits{size}"] = net(x)
    save_file({k: v.contiguous() for k, v in s.items()}, out("resnet.safetensors"))


def images():
    """A small JPEG written by PIL with the pixels PIL decodes from it, and PyTorch's bilinear
    resizing (align_corners=False, no antialias) of a known RGB image, for tl's image loading."""
    from PIL import Image
    rng = np.random.default_rng(6)
    s = {}
    y, x = np.mgrid[0:12, 0:16]
    rgb = np.stack([x * 15, y * 20, (x + y) * 9], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(out("photo.jpg"), quality=90)
    s["jpeg.decoded"] = torch.from_numpy(np.asarray(Image.open(out("photo.jpg")).convert("RGB")).astype(np.float32).copy())
    s["jpeg.decoded_grey"] = torch.from_numpy(np.asarray(Image.open(out("photo.jpg")).convert("L")).astype(np.float32).copy())
    pixels = rng.integers(0, 256, (7, 5, 3)).astype(np.uint8)
    s["resize.pixels"] = torch.from_numpy(pixels.astype(np.float32))
    t = torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)[None]
    for h, w in ((4, 6), (10, 9), (7, 5), (3, 2)):
        s[f"resize.{h}x{w}"] = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False, antialias=False)[0]
    save_file({k: v.contiguous() for k, v in s.items()}, out("images.safetensors"))


def arrays():
    base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8 - 1
    np.save(out("f4.npy"), base.astype(np.float32))
    np.save(out("f8.npy"), base)
    np.save(out("i8.npy"), np.arange(-3, 3, dtype=np.int64).reshape(2, 3))
    np.save(out("u1.npy"), np.array([[0, 7, 255]], dtype=np.uint8))
    np.save(out("b1.npy"), np.array([True, False, True]))
    np.save(out("fortran.npy"), np.asfortranarray(base.astype(np.float32)))
    np.save(out("bigendian.npy"), base.astype(">f4"))
    np.save(out("scalar.npy"), np.float32(2.5))
    np.savez(out("stored.npz"), x=base.astype(np.float32), y=np.array([1, 2, 3], dtype=np.int64))
    np.savez_compressed(out("compressed.npz"), x=base.astype(np.float32), y=np.array([1, 2, 3], dtype=np.int64))


def idx():
    """A miniature MNIST directory: 6 training and 4 test images of 28×28, labels; the test set gzipped."""
    import gzip
    directory = out("mnist-mini")
    os.makedirs(directory, exist_ok=True)

    def write(name, array, compress=False):
        header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        data = header + array.astype(np.uint8).tobytes()
        if compress:
            with gzip.open(os.path.join(directory, name + ".gz"), "wb") as f:
                f.write(data)
        else:
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)

    rng = np.random.default_rng(5)
    write("train-images-idx3-ubyte", rng.integers(0, 256, (6, 28, 28)))
    write("train-labels-idx1-ubyte", np.array([5, 0, 4, 1, 9, 2]))
    write("t10k-images-idx3-ubyte", np.full((4, 28, 28), 255), compress=True)
    write("t10k-labels-idx1-ubyte", np.array([7, 2, 1, 0]), compress=True)


def check(directory):
    """Reads what tl's tests wrote (see TLNNTests/InteropTests.swift) with PyTorch and NumPy."""
    expected = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8 - 1)
    got = np.load(os.path.join(directory, "tl.npy"))
    assert got.dtype == np.float32 and np.array_equal(got, expected), got
    z = np.load(os.path.join(directory, "tl.npz"))
    assert np.array_equal(z["x"], expected) and np.array_equal(z["v"], np.array([1, 2, 3], np.float32))
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.Tanh(), nn.Linear(10, 3))
    state = load_file(os.path.join(directory, "tl.safetensors"))
    net.load_state_dict(state)  # strict: names, shapes and dtypes must all agree
    io = load_file(os.path.join(directory, "tl_io.safetensors"))
    net.eval()
    y = net(io["x"])
    err = (y - io["y_eval"]).abs().max().item()
    assert err < 1e-5, err
    print(f"ok: NumPy read tl's .npy/.npz; PyTorch loaded tl's state dict strictly; eval outputs agree to {err:.1e}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        torch.set_num_threads(1)
        layers(); losses(); discrepancies(); optimizers(); model(); resnet(); images(); arrays(); idx()
        print("fixtures written to", HERE)
