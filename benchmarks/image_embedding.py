"""Benchmark: images per second for the ResNet-50 trunk at 224 px on this CPU (issue 4, item 6).

Generated 320x240 JPEGs through `ImageEncoder` (decode, resize to 224x224, normalise, forward);
speed does not depend on the weights, so the seeded random trunk is used. For each number of
torch threads and batch size, after one warm-up batch; a second, cached run is timed too.
Prints a table and writes benchmarks/results/image_embedding.json.

    .venv/bin/python benchmarks/image_embedding.py [--images 64] [--batch-size 16 64] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from _common import write_results


def generated_images(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        gradient = np.linspace(0, 255, 320, dtype=np.float32)[None, :, None] * rng.random(3)
        pixels = np.clip(gradient + rng.normal(0, 40, (240, 320, 3)), 0, 255).astype("uint8")
        path = folder / f"{i}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def measure(paths: list[Path], batch_size: int, threads: int, scratch: Path) -> dict:
    import torch

    from heritage_kg.learning.features.images import ImageEncoder

    torch.set_num_threads(threads)
    cache = scratch / f"cache-{threads}-{batch_size}.sqlite"
    encoder = ImageEncoder(weights="none", batch_size=batch_size, cache_path=cache).fit()
    encoder._load()
    encoder._encode(paths[:batch_size], [p.read_bytes() for p in paths[:batch_size]])  # warm-up, not cached
    encoder.images_encoded_ = 0
    start, cpu = time.perf_counter(), time.process_time()
    encoder.transform(paths)
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    cached = ImageEncoder(weights="none", batch_size=batch_size, cache_path=cache).fit()
    start = time.perf_counter()
    cached.transform(paths)
    cached_s = time.perf_counter() - start
    assert encoder.images_encoded_ == len(paths) and cached.images_encoded_ == 0
    return {"threads": threads, "batch_size": batch_size, "images": len(paths), "seconds": round(seconds, 2),
            "images_per_s": round(len(paths) / seconds, 2), "cpu_s": round(cpu_s, 2),
            "images_per_cpu_s": round(len(paths) / cpu_s, 2), "cached_s": round(cached_s, 3),
            "cached_images_per_s": round(len(paths) / cached_s), "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch threads; on a shared machine 1 can beat 2 (a busy core stalls the other)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        paths = generated_images(Path(scratch), args.images)
        rows = [measure(paths, batch_size, threads, Path(scratch))
                for threads in args.threads for batch_size in args.batch_size]
    result = {"benchmark": "image_embedding", "model": "resnet50 trunk (seeded random weights), 224 px, 2048-d",
              "cpu_count": os.cpu_count(), "machine": platform.processor() or platform.machine(), "rows": rows}
    print(f"image embedding: ResNet-50 trunk at 224 px, {args.images} generated 320x240 JPEGs, {os.cpu_count()} CPUs")
    print(f"{'threads':>7} {'batch':>6} {'seconds':>8} {'images/s':>9} {'images/cpu-s':>13} {'cached s':>9} "
          f"{'images/s':>9} {'load avg':>9}")
    for row in rows:
        print(f"{row['threads']:>7} {row['batch_size']:>6} {row['seconds']:>8} {row['images_per_s']:>9} "
              f"{row['images_per_cpu_s']:>13} {row['cached_s']:>9} {row['cached_images_per_s']:>9} "
              f"{row['load_average_after'][0]:>9}")
    print("images/cpu-s: per second of this process's CPU time; load avg: the machine's, after the row")
    print(f"-> {write_results('image_embedding', result)}")


if __name__ == "__main__":
    main()
