"""A graph build: read a collection, map it to RDF, and publish it into the store atomically,
with the build itself recorded as a PROV activity in the `builds` graph."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rdflib import Graph

from heritage_kg.errors import BuildError, HeritageKGError
from heritage_kg.graph.mapping import TYPE, CollectionMapping
from heritage_kg.graph.media import load_glossary
from heritage_kg.graph.namespaces import DEFAULT_BASE_IRI, HK, PROV, Minter
from heritage_kg.graph.nquads import QuadWriter
from heritage_kg.graph.provenance import write_activity, write_source_archive
from heritage_kg.graph.store import GraphStore
from heritage_kg.resources import MEDIUM_GLOSSARY, ONTOLOGY
from heritage_kg.sources import read_collection
from heritage_kg.sources.records import DuplicateContributor, SkippedRecord, SubjectConflict, UnparsedDimensions


@dataclass
class BuildReport:
    collection: str
    source: str
    checksum: str
    build_iri: str
    graph: str
    artworks: int
    artists: int
    concepts: int
    triples: int
    seconds: float
    medium_groups: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedRecord] = field(default_factory=list)
    # Loaded records with something to know (sources/records.py); each is a hk:SourceNote too.
    subject_conflicts: list[SubjectConflict] = field(default_factory=list)
    unparsed_dimensions: list[UnparsedDimensions] = field(default_factory=list)
    duplicate_contributors: list[DuplicateContributor] = field(default_factory=list)

    @property
    def source_notes(self) -> list[SubjectConflict | UnparsedDimensions | DuplicateContributor]:
        return [*self.subject_conflicts, *self.unparsed_dimensions, *self.duplicate_contributors]


def build_graph(store: GraphStore, collection: str, source: str, *, base_iri: str = DEFAULT_BASE_IRI,
                cache_dir: Path | None = None, glossary: Path = MEDIUM_GLOSSARY, ontology: Path = ONTOLOGY,
                progress=None) -> BuildReport:
    """Reads `source` as `collection` and replaces that collection's graph in `store`, minting
    IRIs under `base_iri`; a URL source is downloaded once into `cache_dir`. The medium `glossary`
    groups the media, and the `ontology` goes into the store beside the data. On any failure the
    store keeps its previous content and a BuildError says why."""
    minter = Minter(base_iri)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    extract = read_collection(collection, source, cache_dir=cache_dir, progress=progress)
    if not extract.artworks:
        raise BuildError(f"{source} holds no readable {collection} artwork records "
                         f"({len(extract.skipped)} skipped); the store was not changed")
    mapping = CollectionMapping(minter, load_glossary(glossary))
    graph = minter.graph(collection)
    report: BuildReport | None = None  # known once the quads are written

    def write_quads(out) -> None:
        nonlocal report
        counts = mapping.write(extract, out)
        mapping.write_vocabularies(out)
        _write_ontology(out, minter.graph("ontology"), ontology)
        report = BuildReport(
            collection=collection, source=source, checksum=extract.checksum,
            build_iri=minter.build(collection, started.strftime("%Y%m%dT%H%M%S%fZ")), graph=graph,
            artworks=counts["artworks"], artists=counts["artists"], concepts=counts["concepts"],
            triples=counts["triples"], seconds=0.0, skipped=extract.skipped,
            subject_conflicts=extract.subject_conflicts, unparsed_dimensions=extract.unparsed_dimensions,
            duplicate_contributors=extract.duplicate_contributors,
            medium_groups={k.removeprefix("medium:"): v for k, v in counts.items() if k.startswith("medium:")},
        )
        _write_provenance(out, minter, report, started)

    task = progress.add_task(f"map and load {len(extract.artworks):,} artworks into the store", total=None) \
        if progress else None
    try:
        store.publish_graphs(write_quads, [graph, minter.graph("vocabularies"), minter.graph("ontology")])
    except HeritageKGError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise BuildError(f"the build of {collection} from {source} failed ({exc}); the store was not changed") from exc
    if progress:
        progress.update(task, total=1, completed=1)
    report.seconds = time.perf_counter() - clock
    return report


def _write_ontology(out, graph_iri: str, path) -> None:
    """The ontology itself goes into the store, so curators can query the model beside the data."""
    ontology = Graph().parse(path, format="turtle")
    suffix = f" <{graph_iri}> .\n"
    for s, p, o in ontology:
        out.write(f"{s.n3()} {p.n3()} {o.n3()}{suffix}")


def _write_provenance(out, minter: Minter, report: BuildReport, started) -> None:
    builds = QuadWriter(out, minter.graph("builds"))
    build, archive = report.build_iri, report.build_iri + "/source"
    write_activity(builds, build, HK + "GraphBuild", started)
    builds.text(build, HK + "collectionName", report.collection)
    builds.iri(build, HK + "builtCollection", minter.collection(report.collection))
    write_source_archive(builds, build, archive, report.source, report.checksum)
    builds.iri(build, PROV + "generated", report.graph)
    builds.integer(build, HK + "artworkCount", report.artworks)
    builds.integer(build, HK + "artistCount", report.artists)
    builds.integer(build, HK + "conceptCount", report.concepts)
    builds.integer(build, HK + "tripleCount", report.triples)
    builds.integer(build, HK + "skippedCount", len(report.skipped))
    for number, skipped in enumerate(report.skipped, start=1):
        record = _write_reason(builds, build, f"{build}/skipped/{number}", "skippedRecord", "SkippedRecord",
                               skipped.reason)
        builds.text(record, HK + "recordPath", skipped.path)
    for number, note in enumerate(report.source_notes, start=1):
        node = _write_reason(builds, build, f"{build}/note/{number}", "sourceNote", "SourceNote", note.reason)
        builds.text(node, HK + "noteKind", note.kind)
        builds.text(node, HK + "noteRecord", note.record)


def _write_reason(builds: QuadWriter, build: str, node: str, relation: str, cls: str, reason: str) -> str:
    """A record the build skipped or noted: a node of `cls` under the build, with its reason."""
    builds.iri(build, HK + relation, node)
    builds.iri(node, TYPE, HK + cls)
    builds.text(node, HK + "reason", reason)
    return node
