"""Artist reconciliation on the real store: time of each phase, coverage per collection, a
consistency check of the cross-collection links (life years more than 5 years apart), and the
precision measured by hand in kg/links/precision-sample.tsv. Reads the store read-only (the
links graph is not written), so it can run against a shared store.

    .venv/bin/python benchmarks/link_artists.py --store /tmp/hk-real-store
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from heritage_kg.config import get_settings
from heritage_kg.graph.namespaces import Minter
from heritage_kg.graph.linking import (
    ArtistReconciler, TargetKind, coverage, read_collection_artists, review_sample, status_counts,
    write_links_table,
)
from heritage_kg.graph.store import open_store
from heritage_kg.sources.authorities import read_authorities

from _common import RESULTS, ROOT, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=get_settings().store)
    parser.add_argument("--authorities", default=str(ROOT.parent / "shared" / "data" / "authorities"))
    parser.add_argument("--draw-sample", type=int, default=0, metavar="N",
                        help="also write N published links drawn at random (seed 2024) for a check by hand")
    args = parser.parse_args()
    timings = {}
    clock = time.perf_counter()
    authorities = read_authorities(Path(args.authorities))
    timings["read authority files"] = time.perf_counter() - clock
    with open_store(args.store, read_only=True) as store:
        clock = time.perf_counter()
        artists = read_collection_artists(store, Minter(get_settings().base_iri))
        timings["read artists from the store"] = time.perf_counter() - clock
        clock = time.perf_counter()
        reconciler = ArtistReconciler().fit(authorities)
        links = reconciler.match_authorities(artists)
        links += reconciler.match_collections(artists, links)
        timings["match (authorities and collections)"] = time.perf_counter() - clock
        clock = time.perf_counter()
        covered = coverage(store, artists, links)
        timings["coverage"] = time.perf_counter() - clock

    print(f"{'phase':40} {'seconds':>8}")
    for phase, seconds in timings.items():
        print(f"{phase:40} {seconds:8.2f}")
    print(f"\n{len(artists):,} artists; links by status: {dict(status_counts(links))}")
    print(f"\n{'collection':10} {'artists':>8} {'linked':>8} {'wikidata':>9} {'ulan':>6} {'cross':>6} "
          f"{'artworks':>9} {'covered':>8} {'via wd':>8}")
    for c in covered:
        print(f"{c.collection:10} {c.artists:8,} {c.artists_linked:8,} {c.artists_wikidata:9,} {c.artists_ulan:6,} "
              f"{c.artists_other_collection:6,} {c.artworks:9,} {c.artworks_covered:8,} {c.artworks_wikidata:8,}")

    by_iri = {a.iri: a for a in artists}
    cross = [link for link in links if link.published and link.target_kind is TargetKind.COLLECTION]
    inconsistent = [link for link in cross if _years_apart(by_iri[link.artist].years, by_iri[link.target].years)]
    print(f"\ncross-collection links: {len(cross)} published, {len(inconsistent)} whose life years are more than "
          f"5 years apart")
    for link in inconsistent:
        other = by_iri[link.target]
        print(f"  {link.artist_name} {by_iri[link.artist].years} = {other.label} {other.years}: {link.evidence}")
    links_by_kind = Counter(str(link.target_kind) for link in links if link.published)
    print(f"published links by kind: {dict(links_by_kind)}")

    precision = {}
    sample = ROOT / "kg" / "links" / "precision-sample.tsv"
    if sample.is_file():
        with open(sample, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        verdicts = Counter((row["sample"], row["verdict"]) for row in rows)
        sampled = [(row["sample"], (row["artist"], row["target"])) for row in rows]
        published = {(link.artist, link.target) for link in links if link.published}
        for name in sorted({s for s, _ in verdicts}):
            checked = sum(n for (s, _), n in verdicts.items() if s == name)
            right = verdicts[(name, "right")]
            still = sum(1 for s, pair in sampled if s == name and pair in published)
            precision[name] = {"checked": checked, "right": right, "still_published": still}
            print(f"\nprecision, checked by hand ({name}): {right}/{checked} right; {still} of them still published")

    if args.draw_sample:
        RESULTS.mkdir(parents=True, exist_ok=True)
        write_links_table(review_sample(links, args.draw_sample, seed=2024), RESULTS / "precision-sample-draft.tsv")
        print(f"\nwritten {RESULTS / 'precision-sample-draft.tsv'}: check each link, then add it to "
              f"kg/links/precision-sample.tsv with a verdict")
    out = write_results("link_artists", {
        "seconds": timings, "artists": len(artists), "links": dict(status_counts(links)),
        "links_by_kind": dict(links_by_kind), "coverage": [asdict(c) for c in covered],
        "cross_collection": {"published": len(cross), "life_years_apart": len(inconsistent)}, "precision": precision})
    print(f"\nwritten {out}")


def _years_apart(ours, theirs, tolerance: int = 5) -> bool:
    return any(a is not None and b is not None and abs(a - b) > tolerance for a, b in zip(ours, theirs))


if __name__ == "__main__":
    main()
