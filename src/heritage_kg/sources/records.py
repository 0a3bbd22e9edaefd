"""Plain records read from a collection, before they become RDF. Every field is optional
except the identifier that names the record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(slots=True)
class SkippedRecord:
    """A source record that was not loaded, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class SubjectConflict:
    """A concept that a taxonomy file places under another parent than the artwork records do.
    The records' parent is kept."""

    kind: ClassVar[str] = "subject parent conflict"
    concept_id: str
    name: str
    record_parent: str | None
    list_parent: str | None
    list_file: str

    @property
    def record(self) -> str:
        return self.list_file

    @property
    def reason(self) -> str:
        return (f"subject {self.concept_id} ({self.name}) is under {self.record_parent} in the artwork records "
                f"but under {self.list_parent} in {self.list_file}; the records' parent is kept")


@dataclass(slots=True)
class UnparsedDimensions:
    """An artwork whose dimensions text gives a size that could not be read as height x width."""

    kind: ClassVar[str] = "unparsed dimensions"
    artwork_id: str
    text: str

    @property
    def record(self) -> str:
        return self.artwork_id

    @property
    def reason(self) -> str:
        return f"no height x width could be read from the dimensions {self.text!r}; no size was recorded"


@dataclass(slots=True)
class DuplicateContributor:
    """An artwork record that lists the same contributor, in the same role, more than once."""

    kind: ClassVar[str] = "duplicate contributor"
    artwork_id: str
    artist_id: str
    role: str | None
    positions: tuple[int, ...]

    @property
    def record(self) -> str:
        return self.artwork_id

    @property
    def reason(self) -> str:
        places = ", ".join(map(str, self.positions))
        return f"contributor {self.artist_id} ({self.role or 'no role'}) is listed at positions {places}"


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
    position: int  # 1-based place in the record's list of contributors: what names the contribution
    role: str | None = None
    order: int | None = None  # the record's display order, as given (two contributors may share one)


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
    # Records that were loaded, with something a curator should know: each has a kind, the
    # record it is about and a reason, and goes into the build's provenance as a hk:SourceNote.
    subject_conflicts: list[SubjectConflict] = field(default_factory=list)
    unparsed_dimensions: list[UnparsedDimensions] = field(default_factory=list)
    duplicate_contributors: list[DuplicateContributor] = field(default_factory=list)
