"""Benchmark: building the full Tate training sets from the graph (issue 4, item 6).

Times `build_dataset` for the full Tate level-2 dataset (six tasks, 700 examples, seed 0) and the
level-1 one, the ten medium subsets with the level-2 dataset (`--medium all`) and the visual-mode
level-2 dataset (`--require-image`, by thumbnail URL since no image is fetched); times the
stratified split alone on the level-2 labels. Prints the level-2 label table (counts per label
per split) and the timings, and writes benchmarks/results/dataset_build.json.

The store: `--store FOLDER` if it already holds a graph (opened read-only); else the Tate archive
(`--source`, default ../shared/data/tate-collection.zip) is built into FOLDER or a temporary one.

    .venv/bin/python benchmarks/dataset_build.py --store /tmp/me/tate-store
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from _common import DEFAULT_TATE_SOURCE as DEFAULT_SOURCE, tate_store, write_results


def _store(args):
    return tate_store(args.store, args.source, "dataset-benchmark-store-")


def _timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="A store folder (reused if built, else built into).")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="The Tate archive to build from.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from heritage_kg.learning.datasets import DatasetSpec, build_dataset, build_medium_subsets, stratified_split
    from heritage_kg.learning.images import ImageCache

    store, store_note = _store(args)
    out_root = Path(tempfile.mkdtemp(prefix="dataset-benchmark-"))
    level2, level2_s = _timed(lambda: build_dataset(
        store, DatasetSpec(name="tate-level2", seed=args.seed), datasets_dir=out_root))
    level1, level1_s = _timed(lambda: build_dataset(
        store, DatasetSpec(name="tate-level1", granularity="level1", seed=args.seed), datasets_dir=out_root))
    subsets, subsets_s = _timed(lambda: build_medium_subsets(
        store, DatasetSpec(name="tate-level2", seed=args.seed), datasets_dir=out_root / "media"))
    # Visual mode (--require-image): with no image fetched here, the artworks with a thumbnail URL.
    visual, visual_s = _timed(lambda: build_dataset(
        store, DatasetSpec(name="tate-level2-visual", seed=args.seed, require_image=True),
        datasets_dir=out_root, images=ImageCache(out_root / "no-images")))
    label_sets = level2.table.column("labels").to_pylist()
    _, split_s = _timed(lambda: stratified_split(label_sets, level2.labels, args.seed))

    manifest = level2.manifest
    print(f"store: {store_note}")
    print(f"\nFull Tate level-2 dataset: {manifest.artworks} artworks, {len(manifest.labels)} labels; "
          f"splits {manifest.splits}; version {manifest.version}")
    print(f"{'task':<13} {'lvl':>3}  {'label':<58} {'train':>6} {'valid':>6} {'test':>6} {'total':>6}")
    for entry in manifest.labels:
        c = entry.counts
        print(f"{entry.task_label:<13} {entry.level:>3}  {entry.display_label[:58]:<58} "
              f"{c['train']:>6} {c['validation']:>6} {c['test']:>6} {c['total']:>6}")
    worst = max(abs(e.counts[s] / manifest.splits[s] - e.counts["total"] / manifest.artworks)
                for e in manifest.labels for s in manifest.splits)

    timings = [
        ("full Tate level-2 dataset build", level2_s, f"{manifest.artworks} artworks, {len(level2.labels)} labels"),
        ("full Tate level-1 dataset build", level1_s,
         f"{level1.manifest.artworks} artworks, {len(level1.labels)} labels"),
        ("level-2 + ten medium subsets (--medium all)", subsets_s, f"{len(subsets)} datasets"),
        ("level-2 --require-image (thumbnail URL)", visual_s,
         f"{visual.manifest.artworks} artworks, {len(visual.labels)} labels"),
        ("stratified 80/10/10 split alone (level 2)", split_s, f"{len(label_sets)} artworks"),
    ]
    print(f"\n{'what':<46} {'seconds':>8}  notes")
    for what, seconds, note in timings:
        print(f"{what:<46} {seconds:>8.1f}  {note}")
    print(f"largest gap between a label's share in a split and overall: {100 * worst:.2f} percentage points")
    print("medium subsets: " + ", ".join(f"{s.name} {s.manifest.artworks}" for s in subsets[1:]))

    def summary(training_set, *keys):
        return {k: getattr(training_set.manifest, k) for k in keys}

    results = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "store": store_note,
        "timings_s": {what: round(seconds, 2) for what, seconds, _ in timings},
        "largest_share_gap_pp": round(100 * worst, 3),
        "level2": asdict(manifest) | {"queries": sorted(manifest.queries)},
        "level1": summary(level1, "version", "artworks", "splits") | {"labels": len(level1.labels)},
        "level2_visual": summary(visual, "version", "artworks", "splits") | {
            "labels": len(visual.labels), "image_filter": asdict(visual.manifest.image_filter)},
        "medium_subsets": {s.name: summary(s, "artworks", "splits") for s in subsets[1:]},
    }
    print(f"\nwritten: {write_results('dataset_build', results)} (datasets under {out_root})")

if __name__ == "__main__":
    main()
