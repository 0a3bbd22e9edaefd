"""What the graph holds, in numbers: per collection, per top-level subject, per medium group."""

from __future__ import annotations

from dataclasses import dataclass

from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore


@dataclass(frozen=True)
class CollectionCount:
    iri: str
    label: str
    artworks: int
    artists: int
    concepts: int


@dataclass(frozen=True)
class SubjectCount:
    iri: str
    label: str
    artworks: int
    level1_in_use: int


@dataclass(frozen=True)
class MediumGroupCount:
    iri: str
    label: str
    artworks: dict[str, int]  # collection label -> artworks in the group


@dataclass(frozen=True)
class GraphStats:
    collections: list[CollectionCount]
    subjects: list[SubjectCount]
    medium_groups: list[MediumGroupCount]


def _int(row, key) -> int:
    return int(row[key].toPython()) if key in row else 0


def collection_stats(store: GraphStore) -> GraphStats:
    _, totals = store.select(load_query("stats_totals").text)
    _, subjects = store.select(load_query("stats_subjects").text)
    _, media = store.select(load_query("stats_media").text)
    return GraphStats(
        collections=[CollectionCount(str(r["collection"]), str(r["label"]), _int(r, "artworks"),
                                     _int(r, "artists"), _int(r, "concepts")) for r in totals],
        subjects=[SubjectCount(str(r["subject"]), str(r["label"]), _int(r, "artworks"), _int(r, "level1InUse"))
                  for r in subjects],
        medium_groups=_medium_groups(media),
    )


def _medium_groups(rows) -> list[MediumGroupCount]:
    groups: dict[str, MediumGroupCount] = {}
    for row in rows:
        group = groups.setdefault(str(row["group"]), MediumGroupCount(str(row["group"]), str(row["label"]), {}))
        group.artworks[str(row["collectionLabel"])] = _int(row, "artworks")
    return sorted(groups.values(), key=lambda g: -sum(g.artworks.values()))
