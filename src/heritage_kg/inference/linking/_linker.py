"""The linker: what the store says, read once per data version, and the links of one artwork,
of a description (for /classify) or of a whole collection."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from heritage_kg.errors import LinkingError, ResourceNotFoundError
from heritage_kg.graph.linking import read_collection_artists
from heritage_kg.graph.namespaces import Minter
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.features.text import DEFAULT_TEXT_ENCODER, TitleEncoder
from heritage_kg.sources import READERS
from heritage_kg.inference.linking._collections import (
    CollectionIndex, SubjectHierarchy, is_placeholder_title, read_collection_index, read_same_as,
)
from heritage_kg.inference.linking._ranking import ArtworkLink, SourceBlock, TargetSpace, rank_block


MAX_LINKS = 100  # links asked for one artwork, at most
_BLOCK = 128  # source artworks ranked together in a bulk run (a block x target matrix of scores)

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
