"""What linking reads of one collection, once: its artworks' titles and artists, their subject
weights handed up the hierarchy, their title vectors (a feature table per collection), and the
artists' owl:sameAs partners."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from rdflib import URIRef
from scipy import sparse

from heritage_kg.errors import FeatureError, LinkingError
from heritage_kg.graph.linking import links_graph
from heritage_kg.graph.namespaces import Minter
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.features.text import DEFAULT_TEXT_ENCODER, TitleEncoder, embed_titles


SERIES_SIZE = 100  # a title this many artworks of a collection share names a series, not a work
_PLACEHOLDER = re.compile(r"\[.*\]|\(.*\)|untitled|blank|no title|title not known|unknown|not titled")


def title_key(title: str) -> str:
    return " ".join(title.lower().split())


def is_placeholder_title(title: str) -> bool:
    """A cataloguer's stand-in for a title ("[title not known]", "Untitled"), not a title."""
    return bool(_PLACEHOLDER.fullmatch(title_key(title)))


# ------------------------------------------------------------------ reading a collection

@dataclass
class SubjectHierarchy:
    """The subject concepts' labels and what is above each (skos:broader, transitively)."""

    labels: dict[str, str]
    broader: dict[str, tuple[str, ...]]

    def __post_init__(self):
        self._lineage: dict[str, tuple[str, ...]] = {}

    @classmethod
    def read(cls, store: GraphStore) -> SubjectHierarchy:
        _, rows = store.select(load_query("linking_subject_concepts").text)
        labels, broader = {}, defaultdict(list)
        for row in rows:
            concept = str(row["concept"])
            if "label" in row:
                labels[concept] = str(row["label"])
            if "broader" in row:
                broader[concept].append(str(row["broader"]))
        return cls(labels, {c: tuple(b) for c, b in broader.items()})

    def lineage(self, concept: str) -> tuple[str, ...]:
        """The concept and every concept above it (a taxonomy with a cycle stops where it loops)."""
        if concept not in self._lineage:
            seen, stack = [], [concept]
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.append(current)
                    stack.extend(self.broader.get(current, ()))
            self._lineage[concept] = tuple(seen)
        return self._lineage[concept]

    def weights(self, weighed: Mapping[str, float]) -> dict[str, float]:
        """Each concept's weight handed up to the concepts above it, the highest where two meet."""
        handed: dict[str, float] = {}
        for concept, weight in weighed.items():
            for above in self.lineage(concept):
                handed[above] = max(handed.get(above, 0.0), float(weight))
        return handed


@dataclass
class CollectionIndex:
    """What linking reads about one collection's artworks, once: titles, artists, subject weights
    (artworks x concepts, handed up the hierarchy) and title vectors."""

    collection: str
    artworks: list[str]
    titles: list[str | None]
    creators: list[tuple[str, ...]]
    concepts: list[str]
    subjects: sparse.csr_matrix  # artworks x concepts: each artwork's weight for each concept
    title_vectors: np.ndarray  # artworks x dim, raw; rows without title evidence are 0
    title_evidence: np.ndarray  # bool per artwork: an informative title with a vector

    @cached_property
    def row(self) -> dict[str, int]:
        return {artwork: i for i, artwork in enumerate(self.artworks)}

    @cached_property
    def works_by(self) -> dict[str, list[int]]:
        works = defaultdict(list)
        for i, artists in enumerate(self.creators):
            for artist in artists:
                works[artist].append(i)
        return dict(works)


def read_collection_index(store: GraphStore, minter: Minter, collection: str, hierarchy: SubjectHierarchy, *,
                          features_dir: Path, encoder: str | Path = DEFAULT_TEXT_ENCODER, encode_titles: bool = False,
                          progress=None) -> CollectionIndex:
    """The collection's artworks as linking compares them. Title vectors come from the collection's
    feature table under `features_dir`; `encode_titles` (re)makes it first (the model runs only on
    titles its cache has never seen), else a missing table is an error saying how to make it."""
    bound = {"collection": URIRef(minter.collection(collection))}
    _, rows = store.select(load_query("linking_collection_artworks").text, bound)
    titles: dict[str, str | None] = {}
    creators: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        artwork = str(row["artwork"])
        titles.setdefault(artwork, str(row["title"]) if "title" in row else None)
        if "artist" in row:
            creators[artwork].append(str(row["artist"]))
    if not titles:
        raise LinkingError(f"the store at {store.location} holds no artworks of {collection!r}: build it first "
                           f"('heritage-kg build-graph --collection {collection} --source PATH')")
    artworks = sorted(titles)
    row_of = {artwork: i for i, artwork in enumerate(artworks)}

    weighed: dict[str, dict[str, float]] = defaultdict(dict)
    _, rows = store.select(load_query("linking_collection_predictions").text, bound)
    for row in rows:
        weighed[str(row["artwork"])][str(row["subject"])] = float(row["confidence"])
    _, rows = store.select(load_query("linking_collection_annotations").text, bound)
    for row in rows:
        for subject in str(row["subjects"]).split():
            weighed[str(row["artwork"])][subject] = 1.0  # a curator's word outweighs any prediction
    columns: dict[str, int] = {}
    entries_row, entries_column, entries_weight = [], [], []
    for artwork, subjects in weighed.items():
        for concept, weight in hierarchy.weights(subjects).items():
            entries_row.append(row_of[artwork])
            entries_column.append(columns.setdefault(concept, len(columns)))
            entries_weight.append(weight)
    subjects_matrix = sparse.csr_matrix((np.asarray(entries_weight, dtype=np.float32), (entries_row, entries_column)),
                                        shape=(len(artworks), len(columns)))

    title_list = [titles[a] for a in artworks]
    table = collection_title_table(collection, artworks, title_list, features_dir=features_dir, encoder=encoder,
                                   encode=encode_titles, progress=progress)
    series = {key for key, n in Counter(title_key(t) for t in title_list if t).items() if n >= SERIES_SIZE}
    vectors = np.zeros((len(artworks), table.dim), dtype=np.float32)
    evidence = np.zeros(len(artworks), dtype=bool)
    for i, (artwork, title) in enumerate(zip(artworks, title_list)):
        vector = table.get(artwork)
        if title and vector is not None and not is_placeholder_title(title) and title_key(title) not in series:
            vectors[i], evidence[i] = vector, True
    return CollectionIndex(collection, artworks, title_list, [tuple(creators.get(a, ())) for a in artworks],
                           list(columns), subjects_matrix, vectors, evidence)


def title_table_name(collection: str) -> str:
    """The feature table of a collection's titles: features/text/collection-<name>/<model id>/."""
    return f"collection-{collection}"


def collection_title_table(collection: str, artworks: Sequence[str], titles: Sequence[str | None], *,
                           features_dir: Path, encoder: str | Path = DEFAULT_TEXT_ENCODER, encode: bool = False,
                           progress=None) -> FeatureTable:
    """The title vectors of a collection's artworks, keyed by artwork IRI. `encode`: computed (the
    embedding cache spares every title encoded before) and saved; else read as saved, and absent
    it is an error: a request never encodes a whole collection."""
    if encode:
        return embed_titles(artworks, titles, dataset=title_table_name(collection), features_dir=features_dir,
                            encoder=encoder, progress=progress).table
    folder = features_dir / "text" / title_table_name(collection) / TitleEncoder(encoder=encoder).fit().model_id_
    if not (folder / "vectors.npy").is_file():
        raise FeatureError(f"no title vectors for the {collection} collection in {folder}: run "
                           f"'heritage-kg link-artworks --from {collection} --to ...' once (it encodes both "
                           "collections' titles), with the same features folder")
    return FeatureTable.load(folder)


def read_same_as(store: GraphStore, minter: Minter) -> dict[str, dict[str, float]]:
    """Each artist's owl:sameAs partners in the artist links graph, both ways, with the match score."""
    query = load_query("links_same_as")
    _, rows = store.select(query.text, query.bindings({"links": URIRef(links_graph(minter))}))
    same: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        artist, target, score = str(row["artist"]), str(row["target"]), float(row["score"])
        same[artist][target] = max(score, same[artist].get(target, 0.0))
        same[target][artist] = max(score, same[target].get(artist, 0.0))
    return dict(same)
