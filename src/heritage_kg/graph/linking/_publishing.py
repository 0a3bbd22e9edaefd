"""A linking run: match, apply the curators' decisions, write the TSV, and publish the links
graph (owl:sameAs links, each with its hk:ArtistMatch and the run's PROV); then the coverage of
the published links per collection."""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from heritage_kg.errors import OfflineDownloadError, SourceError
from heritage_kg.graph.linking._artists import CollectionArtist, read_collection_artists
from heritage_kg.graph.linking._curation import apply_curator_decisions, read_curator_decisions, write_links_table
from heritage_kg.graph.linking._matching import ArtistLink, ArtistReconciler, LinkStatus, MatchRules, TargetKind
from heritage_kg.graph.linking._names import name_key
from heritage_kg.graph.namespaces import FOAF, HK, OWL, RDF, RDFS, Minter
from heritage_kg.graph.nquads import QuadWriter
from heritage_kg.graph.provenance import activity_stamp, write_activity, write_generated, write_source_archive
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.sources.authorities import (
    FORMATS, AuthorityFile, query_wikidata_people, read_authorities, ulan_page,
)

SAME_AS, TYPE, LABEL = OWL + "sameAs", RDF + "type", RDFS + "label"
COLLECTIONS = ("tate", "cmoa")
AUTHORITY_LABELS = {**{name: form.label for name, form in FORMATS.items()},
                    "wikidata": "Wikidata (public SPARQL service)", "curator": "A curator's decision"}


def links_graph(minter: Minter) -> str:
    return minter.graph("links")


def match_iri(minter: Minter, link: ArtistLink) -> str:
    """Stable across runs: the same pair is the same match resource."""
    digest = hashlib.sha1(f"{link.artist} {link.target}".encode()).hexdigest()[:20]
    return f"{minter.base}link/artist/{digest}"


def authority_iri(minter: Minter, authority: str) -> str:
    if authority in COLLECTIONS:
        return minter.collection(authority)
    return f"{minter.base}authority/{authority}"


@dataclass(frozen=True)
class LinkSource:
    location: str
    checksum: str


@dataclass(frozen=True)
class LinkingRun:
    iri: str
    started: datetime
    sources: tuple[LinkSource, ...] = ()


def write_links_nquads(out, minter: Minter, links: list[ArtistLink], run: LinkingRun) -> int:
    """The links graph: every published link as owl:sameAs with its hk:ArtistMatch, the Getty
    page of each linked ULAN entity as foaf:page, and the run as a PROV activity."""
    graph = QuadWriter(out, links_graph(minter))
    write_activity(graph, run.iri, HK + "LinkingRun", run.started)
    for number, source in enumerate(run.sources, start=1):
        write_source_archive(graph, run.iri, f"{run.iri}/source/{number}", source.location, source.checksum)
    published = [link for link in links if link.published]
    for authority in sorted({a for link in published for a in link.authorities} - set(COLLECTIONS)):
        iri = authority_iri(minter, authority)
        graph.iri(iri, TYPE, HK + "Authority")
        graph.text(iri, LABEL, AUTHORITY_LABELS.get(authority, authority))
    for entity in sorted({link.target for link in published if link.target_kind is TargetKind.ULAN}):
        graph.iri(entity, FOAF + "page", ulan_page(entity))  # a page is not a person, but says who is
    for link in published:
        match = match_iri(minter, link)
        graph.iri(link.artist, SAME_AS, link.target)
        graph.iri(match, TYPE, HK + "ArtistMatch")
        graph.iri(match, HK + "matchSubject", link.artist)
        graph.iri(match, HK + "matchTarget", link.target)
        graph.decimal(match, HK + "score", link.score)
        graph.text(match, HK + "evidence", link.evidence)
        graph.text(match, HK + "matchStatus", link.status)
        for authority in link.authorities:
            graph.iri(match, HK + "matchedBy", authority_iri(minter, authority))
        write_generated(graph, run.iri, match)
    graph.integer(run.iri, HK + "linkCount", len(published))
    return len(published)


@dataclass(frozen=True)
class CollectionCoverage:
    collection: str
    artists: int
    artists_linked: int  # with at least one published link of any kind
    artists_wikidata: int
    artists_ulan: int
    artists_other_collection: int
    artworks: int
    artworks_covered: int  # artworks one of whose artists has a published link
    artworks_wikidata: int


@dataclass
class LinkingReport:
    run_iri: str
    graph: str
    links: list[ArtistLink]
    coverage: list[CollectionCoverage]
    authorities: list[AuthorityFile]
    table: Path
    online_message: str | None = None

    def count(self, status: LinkStatus) -> int:
        return sum(1 for link in self.links if link.status == status)


@dataclass(frozen=True)
class WikidataService:
    """Wikidata's public SPARQL service, asked about the artists' names by `--online`."""

    endpoint: str
    timeout_s: float = 30.0


def link_artists(store: GraphStore, *, base_iri: str, links_dir: Path, authorities_dir: Path | None,
                 table: Path | None = None, rules: MatchRules | None = None,
                 wikidata: WikidataService | None = None) -> LinkingReport:
    """Matches every collection's artists to the authorities in `authorities_dir` (None: to one
    another only), applies the curators' decisions of `links_dir/curated.tsv`, writes every pair
    found to the TSV `table` (default `links_dir/artists.tsv`) and replaces the store's links
    graph atomically."""
    minter = Minter(base_iri)
    started = datetime.now(UTC)
    decisions = read_curator_decisions(links_dir / "curated.tsv")  # a bad file stops the run before any work
    authorities = read_authorities(authorities_dir) if authorities_dir is not None else []
    artists = read_collection_artists(store, minter)
    if not artists:
        raise SourceError(f"the store at {store.location} holds no artists: build a collection first "
                          f"('heritage-kg build-graph --source PATH')")
    online_message = None
    if wikidata is not None:
        try:
            names = sorted({a.name for a in artists if a.name and name_key(a.name)})
            authorities.append(query_wikidata_people(wikidata.endpoint, load_query("links_wikidata_people").text,
                                                     names, timeout_s=wikidata.timeout_s))
            online_message = f"online: asked Wikidata about {len(names):,} names"
        except OfflineDownloadError as exc:
            online_message = str(exc)
    reconciler = ArtistReconciler(rules).fit(authorities)
    links = reconciler.match_authorities(artists)
    links += reconciler.match_collections(artists, links)
    links = apply_curator_decisions(links, decisions, {a.iri: a for a in artists})
    table = table or links_dir / "artists.tsv"
    write_links_table(links, table)

    run = LinkingRun(f"{minter.base}linking/artists/{activity_stamp(started)}", started,
                     tuple(LinkSource(a.location, a.checksum) for a in authorities if a.checksum))
    store.publish_graphs(lambda out: write_links_nquads(out, minter, links, run), [links_graph(minter)])
    return LinkingReport(run.iri, links_graph(minter), links, coverage(store, artists, links), authorities, table,
                         online_message)


def coverage(store: GraphStore, artists: list[CollectionArtist], links: list[ArtistLink]) -> list[CollectionCoverage]:
    """Per collection: artists with a published link (of each kind), and artworks one of whose
    artists has one."""
    kinds: dict[str, set[TargetKind]] = defaultdict(set)
    for link in links:
        if link.published:
            kinds[link.artist].add(link.target_kind)
            if link.target_kind is TargetKind.COLLECTION:  # owl:sameAs is symmetric
                kinds[link.target].add(TargetKind.COLLECTION)
    _, rows = store.select(load_query("links_artwork_artists").text)
    artworks_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        artworks_of[str(row["artwork"])].add(str(row["artist"]))
    collection_of = {a.iri: a.collection for a in artists}
    result = []
    for collection in sorted({a.collection for a in artists}):
        members = [a.iri for a in artists if a.collection == collection]
        works = {w: by for w, by in artworks_of.items()
                 if any(collection_of.get(artist) == collection for artist in by)}
        result.append(CollectionCoverage(
            collection=collection, artists=len(members),
            artists_linked=sum(1 for a in members if kinds.get(a)),
            artists_wikidata=sum(1 for a in members if TargetKind.WIKIDATA in kinds.get(a, ())),
            artists_ulan=sum(1 for a in members if TargetKind.ULAN in kinds.get(a, ())),
            artists_other_collection=sum(1 for a in members if TargetKind.COLLECTION in kinds.get(a, ())),
            artworks=len(works),
            artworks_covered=sum(1 for by in works.values() if any(kinds.get(a) for a in by)),
            artworks_wikidata=sum(1 for by in works.values()
                                  if any(TargetKind.WIKIDATA in kinds.get(a, ()) for a in by)),
        ))
    return result


def review_sample(links: list[ArtistLink], size: int, seed: int) -> list[ArtistLink]:
    """A seeded random sample of the published links, for a precision check by hand."""
    published = sorted((link for link in links if link.published), key=lambda link: (link.artist, link.target))
    return random.Random(seed).sample(published, min(size, len(published)))


def status_counts(links: list[ArtistLink]) -> Counter:
    return Counter(str(link.status) for link in links)
