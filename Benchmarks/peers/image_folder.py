"""Loading a folder of small JPEGs into one float array: Pillow + NumPy, as
Benchmarks/workloads/images.tl does in tl.

--make DIR writes the folder first (once): --count JPEGs of 32×32 (quality 90), smooth random
colour images, spread over 10 class folders, seed 0. Then each pass reads every file in sorted
order (classes sorted, files sorted), decodes it to RGB with Pillow, converts to float32 in
[0, 1], channel-first, into one N×3×32×32 array. Figure: images/s per pass, median (min-max).

Usage: python image_folder.py --dir DIR [--make] [--count 10000] [--passes 3] [--threads N] [--json]
"""
from common import pin_threads_from_argv, stats, env_info, print_header

THREADS = pin_threads_from_argv(1)

import argparse
import json
import os
import time

import numpy as np
from PIL import Image


def make(directory, count):
    rng = np.random.default_rng(0)
    for k in range(count):
        folder = os.path.join(directory, f"class{k % 10}")
        os.makedirs(folder, exist_ok=True)
        small = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
        image = Image.fromarray(small).resize((32, 32), Image.BILINEAR)
        image.save(os.path.join(folder, f"{k:05d}.jpg"), quality=90)


def files(directory):
    for cls in sorted(os.listdir(directory)):
        folder = os.path.join(directory, cls)
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if not name.startswith("."):
                    yield os.path.join(folder, name)


def load(directory):
    paths = list(files(directory))
    out = np.empty((len(paths), 3, 32, 32), dtype=np.float32)
    for i, path in enumerate(paths):
        with Image.open(path) as image:
            out[i] = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--make", action="store_true")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.make:
        if not os.path.isdir(args.dir) or sum(1 for _ in files(args.dir)) != args.count:
            make(args.dir, args.count)
        return
    info = env_info(THREADS)
    if not args.json:
        print_header(info)
    rates = []
    for _ in range(args.passes):
        t0 = time.perf_counter()
        x = load(args.dir)
        rates.append(len(x) / (time.perf_counter() - t0))
    r = stats(rates)
    out = {"bench": "image_folder", "unit": "images/s", "env": info, "count": len(x), "results": {"pil_numpy": r}}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"Pillow + NumPy: {r['median']:.0f} images/s ({r['min']:.0f}-{r['max']:.0f})")


if __name__ == "__main__":
    main()
