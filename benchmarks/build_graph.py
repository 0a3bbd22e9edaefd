"""Benchmark: the full Tate graph build against the store's own limit.

Runs, each in a fresh process so peak memory is its own:
  1. `build_graph` of the full tate-collection.zip into an empty store (read, map, load, swap);
  2. the raw `bulk_load` of the same quads, dumped to N-Quads beforehand, into an empty store.
Prints a table and writes benchmarks/results/build_graph.json.
Targets (issue 2): build <= 60 s, <= 2x the raw bulk load, peak memory < 2 GB.

    .venv/bin/python benchmarks/build_graph.py [--source ../shared/data/tate-collection.zip]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_TATE_SOURCE as DEFAULT_SOURCE, write_results


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(source: str, store_dir: str, results) -> None:
    from heritage_kg.graph.build import build_graph
    from heritage_kg.graph.store import open_store

    store = open_store(store_dir)
    start = time.perf_counter()
    report = build_graph(store, "tate", source)
    seconds = time.perf_counter() - start
    results.put({"seconds": seconds, "triples": report.triples, "store_quads": store.triple_count(),
                 "peak_rss_mb": _peak_rss_mb()})


def _raw_load(nquads: str, store_dir: str, results) -> None:
    import pyoxigraph

    store = pyoxigraph.Store(store_dir)
    start = time.perf_counter()
    store.bulk_load(path=nquads, format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    seconds = time.perf_counter() - start
    results.put({"seconds": seconds, "store_quads": len(store), "peak_rss_mb": _peak_rss_mb()})


def _in_fresh_process(target, *args) -> dict:
    context = mp.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    result = results.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is reported")
    args = parser.parse_args()
    if not Path(args.source).exists():
        sys.exit(f"no Tate archive at {args.source}: pass --source")

    work = Path(tempfile.mkdtemp(prefix="hk-bench-build-"))
    os.environ["HERITAGE_KG_CACHE_DIR"] = str(work / "cache")
    try:
        builds = []
        for run in range(args.repeat):
            store_dir = work / f"store-{run}"
            builds.append(_in_fresh_process(_build, args.source, str(store_dir)))
        # the same quads as N-Quads, for the raw loader
        from heritage_kg.graph.store import open_store

        nquads = work / "tate.nq"
        with open_store(work / "store-0") as built:
            built.export_quads(nquads)
        raws = [_in_fresh_process(_raw_load, str(nquads), str(work / f"raw-{run}")) for run in range(args.repeat)]
        build = min(builds, key=lambda r: r["seconds"])
        raw = min(raws, key=lambda r: r["seconds"])
        result = {
            "source": args.source,
            "cpu_count": os.cpu_count(),
            "build": build,
            "raw_bulk_load": raw,
            "build_triples_per_second": build["store_quads"] / build["seconds"],
            "raw_triples_per_second": raw["store_quads"] / raw["seconds"],
            "build_over_raw": build["seconds"] / raw["seconds"],
            "nquads_mb": nquads.stat().st_size / 2**20,
            "all_build_seconds": [r["seconds"] for r in builds],
            "all_raw_seconds": [r["seconds"] for r in raws],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'':28}{'build-graph':>14}{'raw bulk_load':>16}")
    print(f"{'wall seconds':28}{build['seconds']:>14.1f}{raw['seconds']:>16.1f}")
    print(f"{'quads in store':28}{build['store_quads']:>14,}{raw['store_quads']:>16,}")
    print(f"{'triples per second':28}{result['build_triples_per_second']:>14,.0f}{result['raw_triples_per_second']:>16,.0f}")
    print(f"{'peak memory (MB)':28}{build['peak_rss_mb']:>14,.0f}{raw['peak_rss_mb']:>16,.0f}")
    print(f"build / raw: {result['build_over_raw']:.2f}x   (targets: build <= 60 s, <= 2x raw, < 2048 MB)")
    write_results("build_graph", result)


if __name__ == "__main__":
    main()
