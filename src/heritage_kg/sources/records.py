"""Plain records read from a collection, before they become RDF. Every field is optional
except the identifier that names the record."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SkippedRecord:
    """A source record that was not loaded, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class Place:
    name: str
    place_type: str | None = None


@dataclass(slots=True)
class Movement:
    id: str
    name: str
    era: str | None = None


@dataclass(slots=True)
class Artist:
    id: str
    name: str | None = None
    sort_name: str | None = None
    gender: str | None = None
    birth_year: int | None = None
    death_year: int | None = None
    date_text: str | None = None
    birth_place: Place | None = None
    death_place: Place | None = None
    nationality: str | None = None
    movements: list[Movement] = field(default_factory=list)
    page_url: str | None = None


@dataclass(slots=True)
class Contribution:
    artist_id: str
    role: str | None = None
    order: int | None = None


@dataclass(slots=True)
class SubjectConcept:
    """A node of the subject taxonomy: level 0 is a top-level subject, 1 and 2 below it."""

    id: str
    name: str
    level: int
    parent_id: str | None = None


@dataclass(slots=True)
class CatalogueGroup:
    id: str
    title: str | None = None


@dataclass(slots=True)
class Artwork:
    id: str  # the accession number: what a museum calls the object
    record_id: str | None = None  # the collection system's own id
    title: str | None = None
    date_text: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    medium: str | None = None
    classification: str | None = None
    dimensions: str | None = None
    width_mm: float | None = None
    height_mm: float | None = None
    depth_mm: float | None = None
    credit_line: str | None = None
    acquisition_year: int | None = None
    department: str | None = None
    thumbnail_url: str | None = None
    page_url: str | None = None
    catalogue_group: CatalogueGroup | None = None
    contributions: list[Contribution] = field(default_factory=list)
    subject_ids: list[str] = field(default_factory=list)  # most specific concepts only
    movements: list[Movement] = field(default_factory=list)


@dataclass
class CollectionExtract:
    """Everything read from one collection source, with the records that were skipped."""

    collection: str
    source: str
    checksum: str
    artworks: list[Artwork] = field(default_factory=list)
    artists: dict[str, Artist] = field(default_factory=dict)
    concepts: dict[str, SubjectConcept] = field(default_factory=dict)
    skipped: list[SkippedRecord] = field(default_factory=list)
