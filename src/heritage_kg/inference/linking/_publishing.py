"""A link-artworks run: every artwork of one collection linked, the best links written into the
artwork links graph with the run's PROV (the other directions kept), and a sample for a check by
hand."""

from __future__ import annotations

import csv
import hashlib
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from rdflib import URIRef

from heritage_kg.errors import LinkingError
from heritage_kg.graph.namespaces import HK, RDF, Minter
from heritage_kg.graph.nquads import QuadWriter
from heritage_kg.graph.provenance import activity_stamp, write_activity, write_generated, write_used
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.features.text import DEFAULT_TEXT_ENCODER
from heritage_kg.inference.linking._linker import ArtworkLinker, check_request
from heritage_kg.inference.linking._ranking import ArtworkLink


# ------------------------------------------------------------------ the links graph

def artwork_links_graph(minter: Minter) -> str:
    return minter.graph("links/artworks")


def artwork_match_iri(minter: Minter, link: ArtworkLink) -> str:
    """Stable across runs: the same pair is the same match resource."""
    digest = hashlib.sha1(f"{link.artwork} {link.target}".encode()).hexdigest()[:20]
    return f"{minter.base}link/artwork/{digest}"


@dataclass
class ArtworkLinkingReport:
    run_iri: str
    graph: str
    source: str
    target: str
    artworks: int  # artworks of the source collection
    links: dict[str, list[ArtworkLink]]  # source artwork -> its links written (none: absent)
    kept: int  # statements of other directions' runs kept in the graph
    seconds: float

    @property
    def linked(self) -> int:
        return len(self.links)

    @property
    def link_count(self) -> int:
        return sum(len(found) for found in self.links.values())

    def reason_counts(self) -> Counter:
        """How many links each kind of reason (artist, subjects, title) took part in."""
        return Counter(part for found in self.links.values() for link in found
                       for part in ("artist", "subjects", "title") if getattr(link, part) > 0)


def link_artworks(store: GraphStore, *, base_iri: str, features_dir: Path, source: str, target: str, k: int = 5,
                  min_score: float = 0.4, encoder: str | Path = DEFAULT_TEXT_ENCODER,
                  progress=None) -> ArtworkLinkingReport:
    """Links every artwork of `source` to its k best artworks of `target` scoring at least
    `min_score`, and writes them into the artwork links graph as hk:ArtworkMatch resources, with
    the run as a PROV activity. The previous run's links from `source` to `target` are replaced
    atomically; the links between other collections stay."""
    if not 0.0 <= min_score <= 1.0:
        raise LinkingError(f"the minimum score is a number from 0 to 1, not {min_score}")
    check_request(source, target, k)
    started, clock = datetime.now(UTC), time.perf_counter()
    minter = Minter(base_iri)
    linker = ArtworkLinker(store, base_iri=base_iri, features_dir=features_dir, encoder=encoder, encode_titles=True,
                           progress=progress)
    linker.space(target)  # both collections' titles encoded before the ranking starts
    links = {artwork: found for artwork, found in linker.link_collection(source, target, k=k, min_score=min_score)
             if found}
    artworks = len(linker.index(source).artworks)
    graph = artwork_links_graph(minter)
    query = load_query("artwork_links_kept")
    kept = sorted(set(store.construct(query.text, query.bindings({
        "links": URIRef(graph), "from": URIRef(minter.collection(source)), "to": URIRef(minter.collection(target))}))))
    run = f"{minter.base}linking/artworks/{activity_stamp(started)}"

    def write(out: TextIO) -> None:
        quads = QuadWriter(out, graph)
        for subject, predicate, obj in kept:
            quads.term(str(subject), str(predicate), obj.n3())
        write_activity(quads, run, HK + "ArtworkLinkingRun", started)
        for collection in (source, target):
            write_used(quads, run, minter.collection(collection))
        for found in links.values():
            for link in found:
                match = artwork_match_iri(minter, link)
                quads.iri(match, RDF + "type", HK + "ArtworkMatch")
                quads.iri(match, HK + "matchSubject", link.artwork)
                quads.iri(match, HK + "matchTarget", link.target)
                quads.decimal(match, HK + "score", link.score)
                quads.text(match, HK + "evidence", link.evidence)
                write_generated(quads, run, match)
        quads.integer(run, HK + "linkCount", sum(len(found) for found in links.values()))

    store.publish_graphs(write, [graph])
    return ArtworkLinkingReport(run, graph, source, target, artworks, links, len(kept), time.perf_counter() - clock)


# ------------------------------------------------------------------ checking links by hand

REVIEW_COLUMNS = ("sample", "k", "artwork", "title", "artists", "date", "target", "target_title", "target_artists",
                  "target_date", "score", "evidence", "verdict", "note")


def review_sample(report: ArtworkLinkingReport, size: int, seed: int) -> list[ArtworkLink]:
    """A seeded random sample of the links a run wrote, for a precision check by hand."""
    written = sorted((link for found in report.links.values() for link in found),
                     key=lambda link: (link.artwork, link.target))
    return random.Random(seed).sample(written, min(size, len(written)))


def write_review_table(store: GraphStore, links: Sequence[ArtworkLink], path: Path, *, sample: str, k: int) -> None:
    """The links of a run that kept `k` per artwork, with what a curator compares (both artworks'
    titles, artists and dates, from the graph), a blank verdict (right or wrong) and note each."""
    query = load_query("artwork_summary")

    def described(artwork: str) -> list[str]:
        _, rows = store.select(query.text, query.bindings({"artwork": URIRef(artwork)}))
        row = rows[0] if rows else {}
        return [str(row.get(key, "")) for key in ("title", "artists", "date")]

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(REVIEW_COLUMNS)
        for link in links:
            writer.writerow([sample, k, link.artwork, *described(link.artwork), link.target, *described(link.target),
                             f"{link.score:.3f}", link.evidence, "", ""])
