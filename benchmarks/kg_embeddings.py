"""Benchmark: PyKEEN knowledge-graph embeddings on the Tate graph (issue 4, item 6).

Exports the leak-free training triples of a Tate store for a dataset (subject annotations of
train artworks only), trains a model (TransE, 200-d, a few epochs by default) on a seeded
90/5/5 split of them, and scores filtered link prediction on a seeded sample of the held-out
test triples. Prints a table and writes benchmarks/results/kg_embeddings.json.

The dataset: `--dataset NAME|FOLDER` if given; else the full Tate level-2 dataset, built by
`heritage_kg.learning.datasets.build_dataset` into a temporary folder.

    .venv/bin/python benchmarks/kg_embeddings.py --store /tmp/me/tate-store [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_TATE_SOURCE as DEFAULT_SOURCE, tate_store, write_results


def _store(args):
    return tate_store(args.store, args.source, "kg-benchmark-store-")


def _dataset(args, store, workdir: Path):
    """The dataset to be leak-free for, and how it was made."""
    from heritage_kg.config import get_settings
    from heritage_kg.learning.datasets import DatasetSpec, build_dataset, open_dataset

    if args.dataset:
        return open_dataset(args.dataset, get_settings().datasets_dir), f"given: {args.dataset}"
    clock = time.perf_counter()
    training_set = build_dataset(store, DatasetSpec(name="tate-level2", granularity="level2", seed=args.seed),
                                 datasets_dir=workdir)
    return training_set, (f"the full Tate level-2 dataset (build_dataset, seed {args.seed}, "
                          f"{time.perf_counter() - clock:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a Tate store folder (built there if empty)")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--dataset")
    parser.add_argument("--model", default="TransE")
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--evaluation-triples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    import logging

    import pykeen  # noqa: F401  (sets its loggers to INFO on import)

    for noisy in ("pykeen", "torch_max_mem"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    from heritage_kg.learning.features.kg import KGEmbedding, dataset_artworks, export_training_triples

    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="kg-benchmark-"))
    store, store_note = _store(args)
    dataset, dataset_note = _dataset(args, store, workdir)
    artworks = dataset_artworks(dataset)
    clock = time.perf_counter()
    triples = export_training_triples(store, artworks.train, dataset=dataset.name)
    export_seconds = time.perf_counter() - clock
    embedding = KGEmbedding(args.model, dim=args.dim, epochs=args.epochs, seed=args.seed,
                            batch_size=args.batch_size, learning_rate=args.learning_rate,
                            evaluation_triples=args.evaluation_triples)
    embedding.fit(triples)
    load_after = os.getloadavg()

    artists = artworks.all_artists
    with_vector = len(artists & set(embedding.entities_))
    result = {
        "model": embedding.model_name_, "dim": args.dim, "epochs": args.epochs, "batch_size": args.batch_size,
        "learning_rate": args.learning_rate, "seed": args.seed, "torch_threads": args.threads,
        "store": store_note, "dataset": dataset_note,
        "dataset_artworks": len(artworks.split), "train_artworks": len(artworks.train),
        "triples": len(triples), "entities": len(triples.entities), "relations": triples.relation_counts(),
        "subject_triples_kept": triples.subject_triples_kept,
        "subject_triples_dropped": triples.subject_triples_dropped,
        "split": embedding.split_sizes_,
        "export_seconds": round(export_seconds, 1),
        "train_seconds": round(embedding.train_seconds_, 1),
        "seconds_per_epoch": round(embedding.train_seconds_ / args.epochs, 1),
        "evaluate_seconds": round(embedding.evaluate_seconds_, 1),
        **{key: round(value, 4) for key, value in embedding.metrics_.items()},
        "final_loss": embedding.final_loss_,
        "dataset_artists_with_vector": f"{with_vector} of {len(artists)}",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores "
                   f"(load average {load_before[0]:.1f} before, {load_after[0]:.1f} after)",
    }
    rows = [("triples (after exclusion)", f"{result['triples']:,}"), ("entities", f"{result['entities']:,}"),
            ("subject triples kept / dropped", f"{result['subject_triples_kept']:,} / "
                                               f"{result['subject_triples_dropped']:,}"),
            ("split train/validation/test", "/".join(f"{embedding.split_sizes_[k]:,}"
                                                     for k in ("training", "validation", "testing"))),
            ("export (SPARQL) s", result["export_seconds"]),
            (f"training s ({args.epochs} epochs)", result["train_seconds"]),
            ("training s per epoch", result["seconds_per_epoch"]),
            (f"evaluation s ({embedding.split_sizes_['evaluated']:,} test triples)", result["evaluate_seconds"]),
            ("MRR (filtered)", result["mrr"]), ("Hits@10 (filtered)", result["hits_at_10"]),
            ("MRR / Hits@10, tail side", f"{result['mrr_tail']} / {result['hits_at_10_tail']}"),
            ("MRR / Hits@10, head side", f"{result['mrr_head']} / {result['hits_at_10_head']}"),
            ("dataset artists with a vector", result["dataset_artists_with_vector"])]
    print(f"{result['model']} {args.dim}-d, {args.epochs} epochs, batch {args.batch_size}, "
          f"learning rate {args.learning_rate}, seed {args.seed}")
    print(f"dataset: {dataset_note}")
    print(f"machine: {result['machine']}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print(f"wrote {write_results('kg_embeddings', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
