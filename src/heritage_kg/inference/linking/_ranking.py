"""The score of a link and its reasons: both sides made comparable (idf-weighted subject
vectors, unit title vectors), a block of artworks ranked against a whole target collection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from heritage_kg.inference.linking._collections import CollectionIndex


@dataclass(frozen=True)
class ScoreWeights:
    artist: float = 0.5
    subjects: float = 0.3
    title: float = 0.2


WEIGHTS = ScoreWeights()
UNRELATED_TITLES = 0.5  # the cosine of two unrelated titles, about (see the package's docstring)
SHOWN_CONCEPTS = 5  # shared concepts given as reasons, the strongest first

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
