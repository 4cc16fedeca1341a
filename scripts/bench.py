#!/usr/bin/env python3
"""tl against the peers of Benchmarks/peers (PyTorch eager, hand-written NumPy), side by side.

Each workload of Benchmarks/workloads/*.tl runs as a tl process (the language's own overhead
counts) and its peer as a Python process, alternating tl and peer within every round, at fixed
thread counts for both. Each process reports a median over its epochs or windows; the table gives
the median of those over the rounds, and the ratio (tl's advantage: > 1 means tl is faster or
smaller) as the median and min–max of the per-round ratios.

Each round also measures the machine's fp32 FMA peak at the same thread count (tl-bench-engine
--peak: independent fused multiply-adds in the widest vectors the CPU has). Workloads whose work is
products (matmul, MLP, CNN, ResNet, DANN, LoRA, PixelDA) get their FLOPs per sample or step from
the model's shapes — forward, weight gradients, and input gradients for every layer but the first — and the
"of peak" column is tl's figure times those FLOPs over the peak: how close tl is to the physical
limit, not only to its peers. Only the products count; activations, pooling and normalisation are
overhead against that limit. The MLP and the CNN also get rows for their products alone
(tl-bench-engine --mlp-products BATCH, --cnn-products: the step's products as the engine issues
them through OpenBLAS, nothing else), the most their steps could reach with OpenBLAS doing the
products.

The kernel rows run Benchmarks/kernel_latency.py for `tl --kernel` and for ipykernel alike, with
the peers' Python (ipykernel brings jupyter_client), else /usr/bin/python3 for tl alone.

The peer Python is $TL_PEER_PYTHON, else $VENV/bin/python, else .venv-peers/bin/python (which
scripts/bench creates from Benchmarks/peers/requirements.txt); without one, or with --no-peers,
only tl's figures are printed.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TL = os.path.join(ROOT, ".build", "release", "tl")
ENGINE_BENCH = os.path.join(ROOT, ".build", "release", "tl-bench-engine")
WORKLOADS = os.path.join(ROOT, "Benchmarks", "workloads")
PEERS = os.path.join(ROOT, "Benchmarks", "peers")
CURVE_BATCHES = [16, 32, 64, 128, 256, 512, 1024]


def peer_python():
    for candidate in (os.environ.get("TL_PEER_PYTHON"),
                      os.path.join(os.environ["VENV"], "bin", "python") if os.environ.get("VENV") else None,
                      os.path.join(ROOT, ".venv-peers", "bin", "python")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def thread_env(threads):
    env = dict(os.environ)
    for var in ("TL_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def run_measured(cmd, threads, cwd=None):
    """Runs `cmd` and returns (stdout, wall seconds, peak RSS MiB) using wait4 for this child alone."""
    with tempfile.TemporaryFile() as out_file:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.dup2(out_file.fileno(), 1)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.execve(cmd[0], cmd, thread_env(threads))
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: {' '.join(cmd)} failed with status {os.waitstatus_to_exitcode(status)}")
        out_file.seek(0)
        return out_file.read().decode(), wall, usage.ru_maxrss / 1024


def tl_script(name, settings):
    """The workload with its top-level settings (`name = value` lines) replaced."""
    with open(os.path.join(WORKLOADS, name + ".tl")) as f:
        text = f.read()
    for key, value in settings.items():
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
        if n != 1:
            sys.exit(f"bench: {name}.tl has no setting line '{key} = …'")
    path = os.path.join(tempfile.gettempdir(), f"tl-bench-{os.getpid()}-{name}.tl")
    with open(path, "w") as f:
        f.write(text)
    return path


def tl_figures(name, settings, threads):
    """Runs a workload; returns {key: [values]} from its `key… value` lines, plus wall time and RSS."""
    path = tl_script(name, settings)
    try:
        out, wall, rss = run_measured([TL, path], threads)
    finally:
        os.remove(path)
    figures = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            try:
                figures.setdefault(" ".join(parts[:-1]), []).append(float(parts[-1]))
            except ValueError:
                pass
    return figures, wall, rss


def measured_json(cmd, threads, cwd=None):
    """Runs `cmd`, which prints its figures as a last line of JSON; returns them, wall time and RSS."""
    out, wall, rss = run_measured(cmd, threads, cwd=cwd)
    return json.loads(out.strip().splitlines()[-1]), wall, rss


def peer_json(python, script, args, threads):
    return measured_json([python, script, "--threads", str(threads), "--json"] + args, threads, cwd=PEERS)


def conv(cin, cout, k, size, stride=1, pad=0):
    """Multiply-adds per sample of a k×k convolution on a size×size input, and its output size."""
    out = (size + 2 * pad - k) // stride + 1
    return cin * cout * k * k * out * out, out


def training_flops(macs):
    """FLOPs of one training sample through layers of `macs` multiply-adds each, first layer
    first: forward, weight gradients, and input gradients for every layer but the first."""
    return 2 * (2 * sum(macs) + sum(macs[1:]))


def inference_flops(macs):
    return 2 * sum(macs)


MLP_MACS = [784 * 256, 256 * 128, 128 * 10]


def cnn_macs(channels=1):
    """Benchmarks/workloads/cnn.tl's LeNet on 1×28×28 (tl's cnn() on 3×28×28 with channels=3)."""
    c1, s = conv(channels, 16, 5, 28)
    c2, s = conv(16, 32, 5, s // 2)
    return [c1, c2, 32 * (s // 2) ** 2 * 128, 128 * 10]


def resnet18_macs(size, classes=10):
    """torchvision's ResNet-18 on 3×size×size: every convolution (with the 1×1 downsampling
    ones) and the classifier."""
    macs = []
    m, s = conv(3, 64, 7, size, stride=2, pad=3)
    macs.append(m)
    s = (s + 2 - 3) // 2 + 1  # max pooling 3, stride 2, padding 1
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            first_stride = stride if block == 0 else 1
            m1, out = conv(cin, cout, 3, s, stride=first_stride, pad=1)
            m2, _ = conv(cout, cout, 3, out, pad=1)
            macs += [m1, m2]
            if first_stride != 1 or cin != cout:
                macs.append(conv(cin, cout, 1, s, stride=first_stride)[0])
            cin, s = cout, out
    macs.append(512 * classes)
    return macs


def dann_step_flops(batch=128):
    """Benchmarks/workloads/dann.tl's step: `batch` source samples through the features, the label
    head and the domain head, `batch` target samples through the features and the domain head."""
    features, label, domain = [784 * 256, 256 * 128], [128 * 10], [128 * 100, 100 * 2]
    return batch * (training_flops(features + label + domain) + training_flops(features + domain))


def lora_training_flops(sizes=(784, 256, 128, 10), rank=8):
    """FLOPs of one training sample through Benchmarks/workloads/lora.tl's MLP: every layer frozen
    beside a rank-r update. Per layer of d inputs and o outputs: forward d·o + r·d + o·r; backward
    the gradients of B (o·r) and of A (r·d), the update's inner gradient (o·r), and for every layer
    but the first the input gradient through W and A (d·o + r·d). No gradient of a frozen weight."""
    macs = 0
    for i, (d, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        macs += d * o + rank * d + o * rank + 2 * o * rank + rank * d
        if i > 0:
            macs += d * o + rank * d
    return 2 * macs


def pixelda_step_flops(batch=64):
    """Benchmarks/workloads/pixelda.tl's step: the generator trained (its input gradient not
    needed); the discriminator trained on `batch` target and `batch` detached generated images,
    then on the generated images again with its weights fixed (forward and input gradients, down
    to the images); the classifier trained on the generated images (input gradients down to them)
    and on the source images."""
    g = [conv(4, 32, 3, 28, pad=1)[0]] + [conv(32, 32, 3, 28, pad=1)[0]] * 2 + [conv(32, 3, 3, 28, pad=1)[0]]
    d1, s = conv(3, 32, 3, 28, stride=2, pad=1)
    d2, s = conv(32, 64, 3, s, stride=2, pad=1)
    d = [d1, d2, 64 * s * s * 2]
    c = cnn_macs(channels=3)
    per_sample = (training_flops(g) + 2 * training_flops(d) + 2 * 2 * sum(d)
                  + 2 * 3 * sum(c) + training_flops(c))
    return batch * per_sample


def median(xs):
    return statistics.median(xs) if xs else float("nan")


class Row:
    def __init__(self, workload, threads, unit, peer_name, higher_is_better=True, flops=None, peaks=None):
        self.workload, self.threads, self.unit, self.peer_name = workload, threads, unit, peer_name
        self.higher = higher_is_better
        self.flops, self.peaks = flops, peaks  # FLOPs per unit of the figure; the run's FMA peaks
        self.tl, self.peer = [], []

    def of_peak(self):
        """tl's median figure as a fraction of the FMA peak at this thread count, or None."""
        if not self.flops or not self.peaks or not self.tl:
            return None
        return median(self.tl) * self.flops / (median(self.peaks) * 1e9)

    def add(self, tl_value, peer_value):
        if tl_value is not None:
            self.tl.append(tl_value)
        if peer_value is not None:
            self.peer.append(peer_value)

    def ratios(self):
        pairs = zip(self.tl, self.peer)
        return [(t / p if self.higher else p / t) for t, p in pairs if t > 0 and p > 0]


def fmt(x, unit):
    if x != x:
        return "—"
    if unit in ("GFLOP/s", "ms", "MiB"):
        return f"{x:.1f} {unit}"
    if x >= 10000:
        return f"{x / 1000:.1f}k {unit}"
    return f"{x:.0f} {unit}" if x >= 100 else f"{x:.1f} {unit}"


def fmt_flops(x):
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.2f} {suffix}"
    return f"{x:.0f}"


def print_table(rows, markdown):
    if markdown:
        print("| workload | threads | tl | FLOPs | of peak | peer | peer figure | ratio (median, min–max) |")
        print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratios = r.ratios()
        ratio = f"{median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})" if ratios else "—"
        share = r.of_peak()
        flops = "—" if not r.flops or r.unit == "GFLOP/s" else fmt_flops(r.flops) + "/" + r.unit.split("/")[0].rstrip("s")
        cells = [r.workload, str(r.threads), fmt(median(r.tl), r.unit), flops,
                 f"{share:.0%}" if share is not None else "—", r.peer_name, fmt(median(r.peer), r.unit), ratio]
        if markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{cells[0]:<42}{cells[1]:>3}  {cells[2]:>16}  {cells[3]:>15}  {cells[4]:>7}  {cells[5]:<8}"
                  f"{cells[6]:>16}  {cells[7]}")


def print_peaks(peaks):
    for threads, values in sorted(peaks.items()):
        print(f"# FMA peak at {threads} thread(s): {median(values):.1f} GFLOP/s, median of {len(values)} "
              f"({min(values):.1f}–{max(values):.1f})")


def fma_peak(threads):
    """The machine's FMA peak at `threads` threads, in GFLOP/s (tl-bench-engine --peak)."""
    out, _, _ = run_measured([ENGINE_BENCH, "--peak", "--threads", str(threads), "--rounds", "3"], threads)
    return float(out.split()[-1])


def products_bound(threads, flops, *which):
    """A training step's products alone, as the engine issues them through OpenBLAS
    (tl-bench-engine --cnn-products, or --mlp-products BATCH), in samples/s: the most the step
    could reach while its products go through OpenBLAS, however little the rest cost. The
    products' FLOPs per sample must be `flops`, the workload's own count."""
    out, _, _ = run_measured([ENGINE_BENCH, *which, "--threads", str(threads), "--rounds", "3"], threads)
    m = re.search(r"= ([0-9.]+) samples/s at most.*; ([0-9]+) FLOP a sample", out)
    if not m:
        sys.exit(f"bench: no figure in tl-bench-engine {' '.join(which)}'s output:\n{out}")
    if abs(float(m.group(2)) - flops) > 1e-3 * flops:
        sys.exit(f"bench: tl-bench-engine {' '.join(which)} times {m.group(2)} FLOP a sample, the workload does {flops:.0f}")
    return float(m.group(1))


def has_module(python, module):
    return subprocess.run([python, "-c", f"import {module}"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def kernel_driver(python):
    """A Python with jupyter_client to drive the kernels: the peers', else the system's."""
    for candidate in (python, "/usr/bin/python3"):
        if candidate and os.access(candidate, os.X_OK) and has_module(candidate, "jupyter_client"):
            return candidate
    return None


def bench(threads, rounds, only, python, curve, peaks):
    rows = []
    peer = (lambda *a: peer_json(python, *a)) if python else None
    if "kernel" in only:  # which Pythons can drive and be the kernels, asked once
        driver = kernel_driver(python)
        ipykernel = python if python and has_module(python, "ipykernel") else None
        if not driver:
            print("# kernel: no Python with jupyter_client (the peers' environment or scripts/setup --tests)",
                  file=sys.stderr)

    def row(workload, unit, peer_name, higher_is_better=True, flops=None):
        """The row of `workload` against `peer_name`, created on first use; `flops` per unit."""
        for r in rows:
            if r.workload == workload and r.peer_name == peer_name:
                return r
        rows.append(Row(workload, threads, unit, peer_name, higher_is_better, flops, peaks))
        return rows[-1]

    for k in range(rounds):
        print(f"# {threads} thread(s), round {k + 1}/{rounds}", file=sys.stderr, flush=True)
        peaks.append(fma_peak(threads))
        if "gemm" in only:
            for n in (256, 1024):
                r = row(f"matmul {n}×{n}", "GFLOP/s", "torch", flops=1e9)
                figures, _, _ = tl_figures("gemm", {"n": n}, threads)
                p = peer("gemm.py", ["--lib", "torch", "--sizes", str(n), "--repeats", "5"], threads)[0] if peer else None
                r.add(median(figures.get(f"gemm {n}", [])), p["results"][str(n)]["torch"]["median"] if p else None)
        if "mlp" in only:
            figures, _, rss = tl_figures("mlp", {"batches": "[32, 128, 512]"}, threads)
            p, _, prss = peer("mlp_train.py", ["--batches", "32,128,512", "--impl", "torch,numpy"], threads) if peer else (None, 0, None)
            for bs in (32, 128, 512):
                for impl in ("torch", "numpy"):
                    r = row(f"MLP train, batch {bs}", "samples/s", impl, flops=training_flops(MLP_MACS))
                    r.add(median(figures.get(f"train {bs}", [])), p["results"][f"{impl}_bs{bs}"]["median"] if p else None)
                r = row(f"MLP train, batch {bs}: its products alone", "samples/s", "—", flops=training_flops(MLP_MACS))
                r.add(products_bound(threads, training_flops(MLP_MACS), "--mlp-products", str(bs)), None)
            r = row("MLP run, peak RSS", "MiB", "torch+np", higher_is_better=False)
            r.add(rss, prss)
        if "cnn" in only:
            figures, _, _ = tl_figures("cnn", {"samples": 12800}, threads)
            p = peer("cnn_train.py", ["--samples", "12800"], threads)[0] if peer else None
            for key, peer_key, name, flops in (
                    ("train", "torch_train", "CNN train, batch 64", training_flops(cnn_macs())),
                    ("inference", "torch_infer", "CNN inference, batch 64", inference_flops(cnn_macs()))):
                r = row(name, "samples/s", "torch", flops=flops)
                r.add(median(figures.get(key, [])), p["results"][peer_key]["median"] if p else None)
            r = row("CNN train: its products alone", "samples/s", "—", flops=training_flops(cnn_macs()))
            r.add(products_bound(threads, training_flops(cnn_macs()), "--cnn-products"), None)
        if "resnet" in only:
            figures, _, _ = tl_figures("resnet", {}, threads)
            p = peer("resnet_train.py", [], threads)[0] if peer else None
            macs = resnet18_macs(64)
            for key, peer_key, name, flops in (
                    ("train", "torch_train", "ResNet-18 train, 3×64×64, batch 32", training_flops(macs)),
                    ("inference", "torch_infer", "ResNet-18 inference, batch 32", inference_flops(macs))):
                r = row(name, "samples/s", "torch", flops=flops)
                r.add(median(figures.get(key, [])), p["results"][peer_key]["median"] if p else None)
        if "images" in only:
            folder = os.path.join(tempfile.gettempdir(), "tl-bench-images")
            if python and k == 0:
                run_measured([python, "image_folder.py", "--dir", folder, "--make"], threads, cwd=PEERS)
            if os.path.isdir(folder):
                figures, _, _ = tl_figures("images", {"path": json.dumps(folder)}, threads)
                p = peer("image_folder.py", ["--dir", folder], threads)[0] if peer else None
                r = row("image folder, 10 000 JPEGs 32×32", "images/s", "PIL+np")
                r.add(median(figures.get("images", [])), p["results"]["pil_numpy"]["median"] if p else None)
        if "dann" in only:
            figures, _, _ = tl_figures("dann", {}, threads)
            p = peer("dann_step.py", [], threads)[0] if peer else None
            r = row("DANN step, 128+128", "steps/s", "torch", flops=dann_step_flops())
            r.add(median(figures.get("steps", [])), p["results"]["torch"]["median"] if p else None)
        if "lora" in only:
            figures, _, _ = tl_figures("lora", {"batches": "[32, 128]"}, threads)
            p = peer("lora_train.py", ["--batches", "32,128", "--rank", "8"], threads)[0] if peer else None
            for bs in (32, 128):
                r = row(f"LoRA rank 8 train, MLP, batch {bs}", "samples/s", "torch", flops=lora_training_flops())
                r.add(median(figures.get(f"train {bs}", [])), p["results"][f"torch_bs{bs}"]["median"] if p else None)
        if "pixelda" in only:
            figures, _, _ = tl_figures("pixelda", {}, threads)
            p = peer("pixelda_step.py", [], threads)[0] if peer else None
            r = row("PixelDA step, 64+64, 3×28×28", "steps/s", "torch", flops=pixelda_step_flops())
            r.add(median(figures.get("steps", [])), p["results"]["torch"]["median"] if p else None)
        if "kernel" in only and driver:
            latency = [driver, os.path.join(ROOT, "Benchmarks", "kernel_latency.py"), "--json", "--starts", "3",
                       "--executes", "200"]
            t = measured_json(latency + ["--tl", TL], threads)[0]["results"]
            q = measured_json(latency + ["--kernel", ipykernel, "-m", "ipykernel_launcher", "-f"],
                              threads)[0]["results"] if ipykernel else None
            for key, name in (("execute", "Jupyter execute round trip of `1`"),
                              ("start_fast_reconnect", "Jupyter kernel start to first reply")):
                r = row(name, "ms", "ipykernel", higher_is_better=False)
                r.add(t[key]["median"], q[key]["median"] if q else None)
        if "startup" in only:
            t = [run_measured([TL, "-e", "1"], threads) for _ in range(5)]
            q = [run_measured([python, "-c", "import torch"], threads) for _ in range(3)] if python else []
            rt = row("start-up, wall", "ms", "torch", higher_is_better=False)
            rt.add(median([w * 1000 for _, w, _ in t]), median([w * 1000 for _, w, _ in q]) if q else None)
            rm = row("start-up, peak RSS", "MiB", "torch", higher_is_better=False)
            rm.add(median([m for _, _, m in t]), median([m for _, _, m in q]) if q else None)
    if curve:
        print_curve(threads, python)
    return rows


def print_curve(threads, python):
    """Time per training step against batch size for the MLP: the cost should grow linearly."""
    batches = ", ".join(str(b) for b in CURVE_BATCHES)
    figures, _, _ = tl_figures("mlp", {"batches": f"[{batches}]", "epochs": 1}, threads)
    p = peer_json(python, "mlp_train.py", ["--batches", ",".join(map(str, CURVE_BATCHES)), "--impl", "torch",
                                           "--epochs", "1"], threads)[0] if python else None
    print(f"\nMLP step time against batch size, {threads} thread(s) (one epoch each):")
    print("| batch | tl µs/step | tl µs/sample | torch µs/step | torch µs/sample |")
    print("|---|---|---|---|---|")
    for b in CURVE_BATCHES:
        rate = median(figures.get(f"train {b}", []))
        prate = p["results"][f"torch_bs{b}"]["median"] if p else float("nan")
        print(f"| {b} | {b / rate * 1e6:.0f} | {1e6 / rate:.2f} | {b / prate * 1e6:.0f} | {1e6 / prate:.2f} |")


def parse_figure(text):
    """A table cell such as "52.5k samples/s" or "76.6 GFLOP/s" → (52500.0, "samples/s"); "—" → None."""
    m = re.match(r"^([0-9.]+)(k?) (.+)$", text.strip())
    if not m:
        return None, None
    return float(m.group(1)) * (1000 if m.group(2) else 1), m.group(3)


def combine(paths):
    """The Markdown tables of separate runs (scripts/bench --markdown > FILE) as one: per row, the
    median over the runs of tl's figure, of its share of the peak and of the ratio, with the
    min–max of the runs' medians — how much a figure moves from one run to the next."""
    runs, peaks = [], {}
    for path in paths:
        with open(path) as f:
            lines = f.read().splitlines()
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines
                if line.startswith("| ") and not line.startswith("| workload")]
        runs.append({(r[0], r[1], r[5]): r for r in rows if len(r) == 8})
        for line in lines:
            m = re.match(r"# FMA peak at (\d+) thread\(s\): ([0-9.]+) GFLOP/s", line)
            if m:
                peaks.setdefault(int(m.group(1)), []).append(float(m.group(2)))
    keys = [k for k in runs[0] if all(k in run for run in runs)]
    print(f"# {len(runs)} runs: {', '.join(paths)}")
    print_peaks(peaks)

    def spread(values, show, unit=""):
        values = [v for v in values if v is not None]
        if not values:
            return "—"
        return f"{show(median(values))} ({show(min(values))}–{show(max(values))}){unit}"

    print(f"| workload | threads | tl, median of {len(runs)} runs (min–max) | FLOPs | of peak | peer | peer figure "
          f"| ratio, median of {len(runs)} runs (min–max) |")
    print("|---|---|---|---|---|---|---|---|")
    for key in keys:
        cells = [run[key] for run in runs]
        unit = parse_figure(cells[0][2])[1] or ""
        number = lambda x: fmt(x, unit).rsplit(" ", 1)[0]  # the unit once, after the range
        tl = spread([parse_figure(c[2])[0] for c in cells], number, " " + unit)
        share = spread([float(c[4].rstrip("%")) if c[4].endswith("%") else None for c in cells], lambda x: f"{x:.0f}", " %")
        peer = spread([parse_figure(c[6])[0] for c in cells], number, " " + unit)
        ratio = spread([float(c[7].split()[0]) if c[7] != "—" else None for c in cells], lambda x: f"{x:.2f}")
        print("| " + " | ".join([key[0], key[1], tl, cells[0][3], share, key[2], peer, ratio]) + " |")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--combine":
        combine(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="scripts/bench.py --combine RUN.md RUN.md RUN.md: the Markdown tables of "
                                        "separate runs as one, medians over the runs with their min–max")
    ap.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per workload (≥ 3 for the table)")
    ap.add_argument("--only", default="gemm,mlp,cnn,resnet,dann,lora,pixelda,images,kernel,startup", help="workloads to run")
    ap.add_argument("--curve", action="store_true", help="also print the MLP step-time curve over batch sizes")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--no-peers", action="store_true", help="measure tl alone")
    args = ap.parse_args()
    if not os.access(TL, os.X_OK):
        sys.exit(f"bench: {TL} is missing; scripts/bench builds it")
    python = None if args.no_peers else peer_python()
    if not python and not args.no_peers:
        print("# no peer Python ($TL_PEER_PYTHON, $VENV/bin/python or .venv-peers/bin/python): tl's figures "
              "only; see Benchmarks/peers/README.md", file=sys.stderr)
    if not os.access(ENGINE_BENCH, os.X_OK):
        sys.exit(f"bench: {ENGINE_BENCH} is missing; scripts/bench builds it")
    only = set(args.only.split(","))
    rows, peaks = [], {}
    for threads in [int(t) for t in args.threads.split(",")]:
        peaks[threads] = []
        rows += bench(threads, args.rounds, only, python, args.curve, peaks[threads])
    print(f"\n# tl vs peers, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, medians of {args.rounds} alternating rounds;"
          " ratio > 1: tl ahead; of peak: tl's FLOPs per second over the FMA peak")
    print_peaks(peaks)
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
