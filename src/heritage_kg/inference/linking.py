"""Artworks linked across collections: for an artwork of one collection, the artworks of another
ranked by what they share (an artist, subjects, a similar title), each with its score and its
reasons; and `link_artworks`, which writes a whole collection's best links into the artwork
links graph with the run's provenance.

The score of a candidate t (target collection) for an artwork s, in [0, 1]:

    score = 0.5 * artist + 0.3 * subjects + 0.2 * title

- artist: 1 when s and t share an artist; else the hk:score (0.75 to 1) of the best owl:sameAs
  match that `heritage-kg link-artists` published between an artist of s and one of t; else 0.
- subjects: the cosine of the two artworks' subject vectors. An artwork weighs a concept 1 when
  a curator annotated it (hk:subject), else by the confidence of a model's unrejected prediction
  (hk:SubjectPrediction; the highest if several); a concept above a weighed one (skos:broader)
  weighs as much ("hill" is also "landscape" and "nature"). Each weight is multiplied by the
  concept's inverse document frequency in the target collection, ln(1 + N / n_c) (N of its
  artworks have a subject, n_c the concept; a concept it lacks counts as rare, n_c = 1), so
  sharing "nature" says little and sharing "Venice" much.
- title: the cosine c of the two titles' MiniLM vectors (learning/features/text.py), rescaled as
  max(0, (c - 0.5) / 0.5): sentence vectors all lean one way, and two unrelated Tate titles have a
  median cosine of about 0.5 (0.78 at the 99th percentile), so 0.5 is no likeness and 1 the same
  title. A placeholder title ("Untitled", "[title not known]", a title wholly in brackets) or one
  that 100 or more artworks of its collection share (a series: Turner's 538 sketchbook pages
  called "Mountains") is no evidence. The rescaling is a constant, not a statistic of either
  collection, so a pair's score does not move when artworks are added elsewhere.

The same artist is the strongest single reason (0.5 on its own); subjects and title together
weigh as much. The top k is exact, not a shortlist: a candidate without a shared artist scores
its subjects and title only, so the k best of those over the whole target collection, with every
work of a same-as artist, hold the k best overall."""

from __future__ import annotations

import csv
import hashlib
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TextIO

import numpy as np
from rdflib import URIRef
from scipy import sparse

from heritage_kg.errors import FeatureError, LinkingError, ResourceNotFoundError
from heritage_kg.graph.linking import links_graph, read_collection_artists
from heritage_kg.graph.namespaces import HK, RDF, Minter
from heritage_kg.graph.nquads import QuadWriter
from heritage_kg.graph.provenance import activity_stamp, write_activity, write_generated, write_used
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.features.text import DEFAULT_TEXT_ENCODER, TitleEncoder, embed_titles
from heritage_kg.sources import READERS


@dataclass(frozen=True)
class ScoreWeights:
    artist: float = 0.5
    subjects: float = 0.3
    title: float = 0.2


WEIGHTS = ScoreWeights()
UNRELATED_TITLES = 0.5  # the cosine of two unrelated titles, about (see the module's docstring)
MAX_LINKS = 100  # links asked for one artwork, at most
SERIES_SIZE = 100  # a title this many artworks of a collection share names a series, not a work
SHOWN_CONCEPTS = 5  # shared concepts given as reasons, the strongest first
_PLACEHOLDER = re.compile(r"\[.*\]|\(.*\)|untitled|blank|no title|title not known|unknown|not titled")
_BLOCK = 128  # source artworks ranked together in a bulk run (a block x target matrix of scores)


def title_key(title: str) -> str:
    return " ".join(title.lower().split())


def is_placeholder_title(title: str) -> bool:
    """A cataloguer's stand-in for a title ("[title not known]", "Untitled"), not a title."""
    return bool(_PLACEHOLDER.fullmatch(title_key(title)))


# ------------------------------------------------------------------ what links say

@dataclass(frozen=True)
class SameArtist:
    """The artist link behind a link: an artist of the artwork and one of the target, the same
    IRI (match score 1) or joined by owl:sameAs with the match's hk:score."""

    artist: str
    artist_name: str | None
    target_artist: str
    target_artist_name: str | None
    match_score: float


@dataclass(frozen=True)
class SharedConcept:
    """A concept both artworks have, with each one's weight for it (1: annotated by a curator;
    less: a model's confidence)."""

    concept: str
    label: str | None
    weight: float
    target_weight: float


@dataclass(frozen=True)
class ArtworkLink:
    """One ranked artwork of the target collection: the score and the three parts it is made of
    (each in [0, 1], weighted by WEIGHTS), with the reasons behind them."""

    artwork: str | None  # linked from; None for a description that is not in the graph
    target: str
    target_title: str | None
    score: float
    artist: float
    subjects: float
    title: float
    same_artist: SameArtist | None = None
    shared_concepts: tuple[SharedConcept, ...] = ()

    @property
    def evidence(self) -> str:
        """The reasons in words, as hk:evidence keeps them."""
        reasons = []
        if self.same_artist is not None:
            same = self.same_artist
            if same.artist == same.target_artist:
                reasons.append(f"same artist: {same.artist_name or same.artist}")
            else:
                reasons.append(f"same artist: {same.artist_name or same.artist} = "
                               f"{same.target_artist_name or same.target_artist} "
                               f"(owl:sameAs, match score {same.match_score:.2f})")
        if self.subjects > 0:
            labels = ", ".join(c.label or c.concept for c in self.shared_concepts)
            reasons.append(f"shared subjects {self.subjects:.2f}: {labels}")
        if self.title > 0:
            reasons.append(f"title similarity {self.title:.2f}: {self.target_title!r}")
        return "; ".join(reasons)


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


# ------------------------------------------------------------------ ranking

@dataclass
class TargetSpace:
    """A collection made ready to be linked to: idf-weighted, unit-length subject rows and
    unit-length title rows, so that a score is a matrix product."""

    index: CollectionIndex
    idf: np.ndarray  # per concept of the index
    rare_idf: float  # for a concept the collection does not have
    subjects: sparse.csr_matrix  # artworks x concepts, unit rows (0 rows for artworks without a subject)
    subject_norms: np.ndarray  # what each row was divided by
    titles: np.ndarray  # artworks x dim, unit rows (0 rows: no title evidence)

    @classmethod
    def of(cls, index: CollectionIndex) -> TargetSpace:
        has_subject = np.diff(index.subjects.indptr) > 0
        counts = np.bincount(index.subjects.indices, minlength=len(index.concepts)).astype(np.float64)
        described = max(int(has_subject.sum()), 1)
        idf = np.log1p(described / np.maximum(counts, 1.0)).astype(np.float32)
        subjects, norms = _unit_rows(index.subjects @ sparse.diags(idf))
        return cls(index, idf, float(np.log1p(described)), subjects, norms,
                   _title_units(index.title_vectors, index.title_evidence))

    @cached_property
    def column(self) -> dict[str, int]:
        return {concept: i for i, concept in enumerate(self.index.concepts)}


def _unit_rows(matrix: sparse.spmatrix) -> tuple[sparse.csr_matrix, np.ndarray]:
    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()).astype(np.float32)
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sparse.csr_matrix(sparse.diags(scale) @ matrix), norms


def _title_units(vectors: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    kept = np.where(evidence[:, None], vectors, 0.0).astype(np.float32)
    norms = np.linalg.norm(kept, axis=1, keepdims=True)
    return np.divide(kept, norms, out=np.zeros_like(kept), where=norms > 0)


@dataclass
class SourceBlock:
    """Artworks (or one description) to link, as the target space compares them."""

    artworks: list[str | None]
    creators: list[tuple[str, ...]]
    subjects: sparse.csr_matrix  # rows x the target's concepts, unit rows
    subject_norms: np.ndarray
    titles: np.ndarray  # rows x dim, unit rows (0: no title evidence)

    @classmethod
    def of(cls, space: TargetSpace, artworks: list[str | None], creators: list[tuple[str, ...]], concepts: list[str],
           weights: sparse.csr_matrix, title_vectors: np.ndarray, title_evidence: np.ndarray) -> SourceBlock:
        """`weights`: rows x `concepts`, each artwork's own weight per concept. A concept the
        target lacks counts as rare in the row's length, and can match nothing."""
        columns = np.array([space.column.get(c, -1) for c in concepts], dtype=np.int64)
        known = columns >= 0
        idf = np.full(len(concepts), space.rare_idf, dtype=np.float32)
        idf[known] = space.idf[columns[known]]
        units, norms = _unit_rows(weights @ sparse.diags(idf))
        to_target = sparse.csr_matrix((np.ones(int(known.sum()), dtype=np.float32),
                                       (np.flatnonzero(known), columns[known])),
                                      shape=(len(concepts), len(space.index.concepts)))
        return cls(artworks, creators, sparse.csr_matrix(units @ to_target), norms,
                   _title_units(title_vectors, title_evidence))


def rank_block(space: TargetSpace, block: SourceBlock, *, k: int, min_score: float, same_as: dict[str, dict[str, float]],
               names: Mapping[str, str], labels: Mapping[str, str]) -> list[list[ArtworkLink]]:
    """The k best links of each artwork of the block (score at least `min_score`, and above 0)."""
    target = space.index
    title_scores = (block.titles @ space.titles.T - UNRELATED_TITLES) / (1.0 - UNRELATED_TITLES)
    np.clip(title_scores, 0.0, 1.0, out=title_scores)
    subject_scores = ((block.subjects @ space.subjects.T).toarray() if block.subjects.nnz
                      else np.zeros_like(title_scores))
    rest = WEIGHTS.subjects * subject_scores + WEIGHTS.title * title_scores
    answers = []
    for i, artists in enumerate(block.creators):
        by_artist = _same_artist_works(artists, target, same_as, names)
        shortlist = (np.argpartition(-rest[i], k)[:k] if k < rest.shape[1] else np.arange(rest.shape[1]))
        candidates = set(shortlist.tolist()) | set(by_artist)
        scored = []
        for j in candidates:
            artist = by_artist[j].match_score if j in by_artist else 0.0
            score = float(rest[i, j]) + WEIGHTS.artist * artist
            if score > 0 and score >= min_score:
                scored.append((-score, target.artworks[j], j, artist))
        scored.sort()
        answers.append([
            ArtworkLink(block.artworks[i], target.artworks[j], target.titles[j], round(-negative, 6), artist,
                        float(subject_scores[i, j]), float(title_scores[i, j]), by_artist.get(j),
                        _shared_concepts(space, block, i, j, labels) if subject_scores[i, j] > 0 else ())
            for negative, _, j, artist in scored[:k]])
    return answers


def _same_artist_works(artists: tuple[str, ...], target: CollectionIndex, same_as: dict[str, dict[str, float]],
                       names: Mapping[str, str]) -> dict[int, SameArtist]:
    """The target's works by one of `artists` or by an artist owl:sameAs one of them: the best link each."""
    found: dict[int, SameArtist] = {}
    for artist in artists:
        partners = {artist: 1.0, **same_as.get(artist, {})}
        for partner, score in partners.items():
            for j in target.works_by.get(partner, ()):
                if j not in found or score > found[j].match_score:
                    found[j] = SameArtist(artist, names.get(artist), partner, names.get(partner), score)
    return found


def _shared_concepts(space: TargetSpace, block: SourceBlock, i: int, j: int,
                     labels: Mapping[str, str]) -> tuple[SharedConcept, ...]:
    """The concepts both have, by what each adds to the cosine; weights back as each artwork gave them."""
    ours, theirs = block.subjects.getrow(i), space.subjects.getrow(j)
    mine = dict(zip(ours.indices.tolist(), ours.data.tolist()))
    shared = sorted(((value * mine[c], c, value) for c, value in zip(theirs.indices.tolist(), theirs.data.tolist())
                     if c in mine), reverse=True)[:SHOWN_CONCEPTS]
    concepts = space.index.concepts
    return tuple(SharedConcept(concepts[c], labels.get(concepts[c]),
                               round(float(mine[c] * block.subject_norms[i] / space.idf[c]), 4),
                               round(float(value * space.subject_norms[j] / space.idf[c]), 4))
                 for _, c, value in shared)


# ------------------------------------------------------------------ the linker

@dataclass
class _Snapshot:
    """What the linker read from one version of the store's data."""

    version: str | None
    made: float
    hierarchy: SubjectHierarchy | None = None
    same_as: dict[str, dict[str, float]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, CollectionIndex] = field(default_factory=dict)
    spaces: dict[str, TargetSpace] = field(default_factory=dict)


class ArtworkLinker:
    """Links artworks across the collections of one store. What it reads (collections, artist
    links, title vectors) is kept until the store's data changes (a server store, which cannot
    say, is read again after `max_age_s`); load it once, e.g. for the service's life."""

    def __init__(self, store: GraphStore, *, base_iri: str, features_dir: Path,
                 encoder: str | Path = DEFAULT_TEXT_ENCODER, encode_titles: bool = False, progress=None,
                 max_age_s: float = 300.0):
        self.store = store
        self.minter = Minter(base_iri)
        self.features_dir = Path(features_dir)
        self.encoder = encoder
        self.encode_titles = encode_titles
        self.progress = progress
        self.max_age_s = max_age_s
        self._lock = threading.RLock()
        self._snapshot: _Snapshot | None = None
        self._title_encoder: TitleEncoder | None = None

    # -- what the store says, read once per data version

    def _current(self) -> _Snapshot:
        version = self.store.data_version()
        snapshot = self._snapshot
        if (snapshot is None or snapshot.version != version
                or (version is None and time.monotonic() - snapshot.made > self.max_age_s)):
            snapshot = _Snapshot(version, time.monotonic())
            snapshot.hierarchy = SubjectHierarchy.read(self.store)
            snapshot.same_as = read_same_as(self.store, self.minter)
            snapshot.names = {a.iri: a.label for a in read_collection_artists(self.store, self.minter)}
            self._snapshot = snapshot
        return snapshot

    def index(self, collection: str) -> CollectionIndex:
        check_collection(collection)
        with self._lock:
            snapshot = self._current()
            if collection not in snapshot.indexes:
                snapshot.indexes[collection] = read_collection_index(
                    self.store, self.minter, collection, snapshot.hierarchy, features_dir=self.features_dir,
                    encoder=self.encoder, encode_titles=self.encode_titles, progress=self.progress)
            return snapshot.indexes[collection]

    def space(self, collection: str) -> TargetSpace:
        index = self.index(collection)
        with self._lock:
            snapshot = self._current()
            if collection not in snapshot.spaces:
                snapshot.spaces[collection] = TargetSpace.of(index)
            return snapshot.spaces[collection]

    def collection_of(self, artwork: str) -> str:
        for collection in READERS:
            if artwork.startswith(self.minter.collection(collection) + "/artwork/"):
                return collection
        raise ResourceNotFoundError(f"{artwork} is not an artwork IRI of any collection ({', '.join(READERS)})")

    # -- links

    def links(self, artwork: str, *, to: str, k: int = 10, min_score: float = 0.0) -> list[ArtworkLink]:
        """The k artworks of collection `to` most like `artwork` (an IRI of another collection)."""
        source = self.collection_of(artwork)
        check_request(source, to, k)
        index = self.index(source)
        if artwork not in index.row:
            raise ResourceNotFoundError(f"no artwork {artwork} in the graph")
        space = self.space(to)
        i = index.row[artwork]
        block = SourceBlock.of(space, [artwork], [index.creators[i]], index.concepts, index.subjects[i],
                               index.title_vectors[i:i + 1], index.title_evidence[i:i + 1])
        return self._rank(space, block, k, min_score)[0]

    def links_for_description(self, *, to: str, k: int = 10, title: str | None = None, artists: Sequence[str] = (),
                              subjects: Mapping[str, float] | None = None, min_score: float = 0.0) -> list[ArtworkLink]:
        """The k artworks of collection `to` most like an artwork described, not in the graph: its
        title, its artists' IRIs (of any collection), and its subjects with their weights (a
        model's probabilities; 1 for a certain one), handed up the hierarchy as annotations are."""
        check_request(None, to, k)
        space = self.space(to)
        weights = self._current().hierarchy.weights(subjects or {})
        concepts = list(weights)
        row = sparse.csr_matrix(np.asarray([[weights[c] for c in concepts]], dtype=np.float32).reshape(1, -1))
        dim = space.titles.shape[1]
        vector, evidence = np.zeros((1, dim), dtype=np.float32), np.zeros(1, dtype=bool)
        if title and title.strip() and not is_placeholder_title(title):
            vector[0], evidence[0] = self._encode_title(title.strip()), True
        block = SourceBlock.of(space, [None], [tuple(artists)], concepts, row, vector, evidence)
        return self._rank(space, block, k, min_score)[0]

    def links_for_prediction(self, prediction, *, title: str | None = None, artists: Sequence[str] = (),
                             k: int = 10) -> dict[str, list[ArtworkLink]]:
        """For POST /classify?links=true: the links into every other collection, by collection. An
        artwork in the graph (`prediction.artwork`) brings its own artists, subjects and title;
        else the request's title and artist IRIs, with the subjects the model said yes to,
        weighted by their probabilities (`prediction.subjects`: inference.predict.SubjectScore)."""
        if prediction.artwork is not None:
            source = self.collection_of(prediction.artwork)
            return {to: self.links(prediction.artwork, to=to, k=k) for to in READERS if to != source}
        subjects = {s.concept: s.probability for s in prediction.subjects if s.predicted}
        return {to: self.links_for_description(to=to, k=k, title=title, artists=artists, subjects=subjects)
                for to in READERS}

    def link_collection(self, source: str, to: str, *, k: int, min_score: float) -> Iterator[tuple[str, list[ArtworkLink]]]:
        """Every artwork of `source` with its k best links into `to`, ranked in blocks."""
        check_request(source, to, k)
        index, space = self.index(source), self.space(to)
        snapshot = self._current()
        task = self.progress.add_task(f"link {source} -> {to}", total=len(index.artworks)) if self.progress else None
        for start in range(0, len(index.artworks), _BLOCK):
            rows = slice(start, start + _BLOCK)
            block = SourceBlock.of(space, index.artworks[rows], index.creators[rows], index.concepts,
                                   index.subjects[rows], index.title_vectors[rows], index.title_evidence[rows])
            ranked = rank_block(space, block, k=k, min_score=min_score, same_as=snapshot.same_as,
                                names=snapshot.names, labels=snapshot.hierarchy.labels)
            yield from zip(index.artworks[rows], ranked)
            if task is not None:
                self.progress.advance(task, len(ranked))

    def _rank(self, space: TargetSpace, block: SourceBlock, k: int, min_score: float) -> list[list[ArtworkLink]]:
        snapshot = self._current()
        return rank_block(space, block, k=k, min_score=min_score, same_as=snapshot.same_as, names=snapshot.names,
                          labels=snapshot.hierarchy.labels)

    def _encode_title(self, title: str) -> np.ndarray:
        with self._lock:
            if self._title_encoder is None:
                self._title_encoder = TitleEncoder(encoder=self.encoder,
                                                   cache_path=self.features_dir / "text" / "cache.sqlite").fit()
            return self._title_encoder.transform([title])[0]


def check_collection(collection: str) -> None:
    if collection not in READERS:
        raise LinkingError(f"unknown collection {collection!r}; known: {', '.join(READERS)}")


def check_request(source: str | None, to: str, k: int) -> None:
    """A link request names a known collection other than the artwork's, and 1 to MAX_LINKS links."""
    check_collection(to)
    if source == to:
        raise LinkingError(f"links go to another collection: the artwork is in {source!r} already")
    if not 1 <= k <= MAX_LINKS:
        raise LinkingError(f"k is the number of links, from 1 to {MAX_LINKS}, not {k}")


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
