"""A trained classifier applied to artworks: those already in the graph (read by a named query,
in batches) or described by the caller (title, artist, medium, image). The model's inputs are
built as training built them, and decisions follow the run's tuned thresholds and the taxonomy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SubjectScore:
    concept: str          # the concept's IRI
    label: str            # its label
    task: str             # its task's IRI (a task's own IRI for a task)
    probability: float
    threshold: float | None  # the tuned threshold; None for a task (decided by its labels)
    predicted: bool       # consistent with skos:broader: a predicted label's broader concepts are too


@dataclass(frozen=True)
class ArtworkPrediction:
    artwork: str | None   # None for metadata/image-only requests
    model: str            # the model's registry IRI
    subjects: list[SubjectScore]  # every label and task, most probable first
    inputs_used: list[str]
    inputs_missing: list[str]

    @property
    def predicted(self) -> list[SubjectScore]:
        return [s for s in self.subjects if s.predicted]


class ArtworkClassifier:
    """A loaded run and the encoders its inputs need; load once, classify many times."""

    @classmethod
    def load(cls, run_folder: Path, *, features_dir: Path, base_iri: str, images_dir: Path | None = None
             ) -> ArtworkClassifier:
        raise NotImplementedError

    def classify_artworks(self, store, artworks: list[str], batch_size: int = 256) -> list[ArtworkPrediction]:
        raise NotImplementedError

    def classify_metadata(self, *, title: str | None = None, artist: str | None = None, medium: str | None = None,
                          image: bytes | None = None, store=None) -> ArtworkPrediction:
        raise NotImplementedError
