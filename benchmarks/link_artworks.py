"""Artwork links on the real store (Tate and CMOA built, artists linked): one whole link-artworks
run timed (the titles encoded, or read from the embedding cache, then the ranking and the
publishing), the artworks that get a link, the links by reason, and the precision measured by
hand in kg/links/artwork-precision-sample.tsv. It replaces the store's CMOA -> Tate artwork links.

    .venv/bin/python benchmarks/link_artworks.py --store /tmp/hk-real-store --features /tmp/hk-features
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

from heritage_kg.config import get_settings
from heritage_kg.graph.store import open_store
from heritage_kg.inference.linking import link_artworks

from _common import ROOT, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=get_settings().store)
    parser.add_argument("--features", default=str(get_settings().features_dir))
    parser.add_argument("--from", dest="source", default="cmoa")
    parser.add_argument("--to", dest="target", default="tate")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--min-score", type=float, default=0.4)
    args = parser.parse_args()
    clock = time.perf_counter()
    with open_store(args.store) as store:
        report = link_artworks(store, base_iri=get_settings().base_iri, features_dir=Path(args.features),
                               source=args.source, target=args.target, k=args.k, min_score=args.min_score)
    seconds = time.perf_counter() - clock
    reasons = report.reason_counts()
    scores = sorted(link.score for found in report.links.values() for link in found)
    print(f"{args.source} -> {args.target}, k={args.k}, min score {args.min_score}: {seconds:.1f} s in all")
    print(f"{report.linked:,} of {report.artworks:,} artworks linked ({100 * report.linked / report.artworks:.1f}%), "
          f"{report.link_count:,} links; with the same artist {reasons['artist']:,}, shared subjects "
          f"{reasons['subjects']:,}, similar titles {reasons['title']:,}")
    if scores:
        print(f"scores: median {scores[len(scores) // 2]:.3f}, max {scores[-1]:.3f}")
    precision = {}
    sample = ROOT / "kg" / "links" / "artwork-precision-sample.tsv"
    if sample.is_file():
        with open(sample, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        written = {(artwork, link.target) for artwork, found in report.links.items() for link in found}
        verdicts = Counter(row["verdict"] for row in rows)
        still = sum(1 for row in rows if (row["artwork"], row["target"]) in written)
        precision = {"checked": len(rows), "right": verdicts["right"], "still_written": still}
        print(f"precision, checked by hand: {verdicts['right']}/{len(rows)} right; {still} of them written again")
    out = write_results("link_artworks", {
        "source": args.source, "target": args.target, "k": args.k, "min_score": args.min_score,
        "seconds": seconds, "artworks": report.artworks, "linked": report.linked, "links": report.link_count,
        "reasons": dict(reasons), "precision": precision})
    print(f"written {out}")


if __name__ == "__main__":
    main()
