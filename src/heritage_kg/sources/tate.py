"""Reader for the Tate collection (github.com/tategallery/collection): artworks, artists and
the subject taxonomy, as the artwork records give it (`processed/subjects/` adds the concepts no
record uses)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from heritage_kg.sources import READERS
from heritage_kg.sources.archive import CollectionArchive, open_source
from heritage_kg.sources.parsing import load_json_record, number, text, unique_records, year
from heritage_kg.sources.records import (
    Artist,
    Artwork,
    CatalogueGroup,
    CollectionExtract,
    Contribution,
    DuplicateContributor,
    Movement,
    Place,
    SkippedRecord,
    SubjectConcept,
    SubjectConflict,
    UnparsedDimensions,
)

TAXONOMY_FILES = {0: "processed/subjects/level0list.json", 1: "processed/subjects/level1list.json",
                  2: "processed/subjects/level2list.json"}


def read_tate(source: str, *, cache_dir: Path | None = None, progress=None) -> CollectionExtract:
    archive = open_source(source, "artworks", cache_dir, progress=progress)
    extract = CollectionExtract("tate", source, archive.checksum())
    listed = _read_taxonomy_files(archive, extract)
    _read_artists(archive, extract, progress)
    _read_artworks(archive, extract, progress)
    _add_listed_concepts(extract, listed)
    return extract


READERS["tate"] = read_tate


def _id(value) -> str | None:
    """Tate ids are integers; a bool, a float or an empty string is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    return None


def _read_taxonomy_files(archive: CollectionArchive, extract: CollectionExtract) -> dict[str, tuple[SubjectConcept, str]]:
    """The concepts of `processed/subjects/level*list.json`, each with the file that lists it."""
    listed: dict[str, tuple[SubjectConcept, str]] = {}
    for level, path in TAXONOMY_FILES.items():
        if not archive.exists(path):
            continue
        for entry in load_json_record(archive.read(path), path, extract.skipped, expect=list) or []:
            concept_id = _id(entry.get("id")) if isinstance(entry, dict) else None
            name = text(entry.get("name")) if isinstance(entry, dict) else None
            if concept_id is None or name is None:
                extract.skipped.append(SkippedRecord(path, f"subject entry without id or name: {entry!r:.80}"))
                continue
            parent = _id(entry.get("parent1")) if level == 2 else _id(entry.get("parent0"))
            listed.setdefault(concept_id, (SubjectConcept(concept_id, name, level, parent if level else None), path))
    return listed


def _add_listed_concepts(extract: CollectionExtract, listed: dict[str, tuple[SubjectConcept, str]]) -> None:
    """The artwork records' subject trees agree with one another, while the list files move some
    concepts elsewhere (2014 snapshot: 26 level-2 concepts, most into objects › miscellaneous).
    An artwork's subjects are the ones its own record gives, so the records win; the list files
    only add the concepts no record uses, and each disagreement is reported."""
    for concept_id, (concept, path) in listed.items():
        used = extract.concepts.get(concept_id)
        if used is None:
            extract.concepts[concept_id] = concept
        elif (used.parent_id, used.level) != (concept.parent_id, concept.level):
            extract.subject_conflicts.append(
                SubjectConflict(concept_id, used.name, used.parent_id, concept.parent_id, path))


def _place(event) -> Place | None:
    place = (event or {}).get("place") if isinstance(event, dict) else None
    if not isinstance(place, dict) or not text(place.get("name")):
        return None
    return Place(text(place["name"]), text(place.get("placeType")))


def _event_year(event) -> int | None:
    """Tate's artist files give the death year only inside the event: death.time.startYear."""
    time = event.get("time") if isinstance(event, dict) else None
    return year(time.get("startYear")) if isinstance(time, dict) else None


def _movements(values) -> list[Movement]:
    movements = []
    for value in values or []:
        if isinstance(value, dict) and _id(value.get("id")) and text(value.get("name")):
            era = value.get("era")
            movements.append(Movement(_id(value["id"]), text(value["name"]),
                                      text(era.get("name")) if isinstance(era, dict) else None))
    return movements


def _read_artists(archive: CollectionArchive, extract: CollectionExtract, progress) -> None:
    records = unique_records(archive, "artists", extract.skipped, lambda r: _id(r.get("id")),
                             missing="artist record without an id", duplicate="duplicate artist id",
                             progress=progress, description="read Tate artists")
    for artist_id, record in records:
        extract.artists[artist_id] = Artist(
            id=artist_id,
            name=text(record.get("fc")),
            sort_name=text(record.get("mda")),
            gender=text(record.get("gender")),
            birth_year=year(record.get("birthYear")),
            death_year=_event_year(record.get("death")),
            date_text=text(record.get("date")),
            birth_place=_place(record.get("birth")),
            death_place=_place(record.get("death")),
            movements=_movements(record.get("movements")),
            page_url=text(record.get("url")),
        )


def _subject_leaves(tree, extract: CollectionExtract) -> list[str]:
    """The most specific concepts of an artwork's subject tree (root "subject" -> level 0 ->
    level 1 -> level 2); each concept is taken into the taxonomy, under its parent here, the
    first time a record uses it."""
    leaves: list[str] = []

    def walk(node, level: int, parent: str | None) -> None:
        for child in node.get("children") or [] if isinstance(node, dict) else []:
            if not isinstance(child, dict):
                continue
            concept_id, name = _id(child.get("id")), text(child.get("name"))
            if concept_id is None or name is None or level > 2:
                continue
            if concept_id not in extract.concepts:
                extract.concepts[concept_id] = SubjectConcept(concept_id, name, level, parent)
            if child.get("children"):
                walk(child, level + 1, concept_id)
            elif concept_id not in leaves:
                leaves.append(concept_id)

    walk(tree, 0, None)
    return leaves


def _read_artworks(archive: CollectionArchive, extract: CollectionExtract, progress) -> None:
    records = unique_records(archive, "artworks", extract.skipped, lambda r: text(r.get("acno")),
                             missing="artwork record without an accession number (acno)",
                             duplicate="duplicate accession number", progress=progress, description="read Tate artworks")
    for acno, record in records:
        extract.artworks.append(_artwork(record, acno, extract))


def _artwork(record: dict, acno: str, extract: CollectionExtract) -> Artwork:
    date_range = record.get("dateRange") if isinstance(record.get("dateRange"), dict) else {}
    group = record.get("catalogueGroup") if isinstance(record.get("catalogueGroup"), dict) else {}
    dimensions = text(record.get("dimensions"))
    height, width, depth = _size(record, dimensions, acno, extract)
    return Artwork(
        id=acno,
        record_id=_id(record.get("id")),
        title=text(record.get("title")),
        date_text=text(record.get("dateText")),
        start_year=year(date_range.get("startYear")),
        end_year=year(date_range.get("endYear")),
        medium=text(record.get("medium")),
        classification=text(record.get("classification")),
        dimensions=dimensions,
        width_mm=width,
        height_mm=height,
        depth_mm=depth,
        credit_line=text(record.get("creditLine")),
        acquisition_year=year(record.get("acquisitionYear")),
        thumbnail_url=text(record.get("thumbnailUrl")),
        page_url=text(record.get("url")),
        catalogue_group=CatalogueGroup(_id(group["id"]), text(group.get("shortTitle")))
        if _id(group.get("id")) else None,
        contributions=_contributions(record.get("contributors"), acno, extract),
        subject_ids=_subject_leaves(record.get("subjects"), extract),
        movements=_movements(record.get("movements")),
    )


def _contributions(contributors, acno: str, extract: CollectionExtract) -> list[Contribution]:
    """One contribution per entry of the record's list, named by its place in the list: two
    entries may share a displayOrder (N03970 lists Thomas Bewick twice, both at 2)."""
    contributions = []
    for position, contributor in enumerate(contributors or [], start=1):
        artist_id = _id(contributor.get("id")) if isinstance(contributor, dict) else None
        if artist_id is None:
            continue
        order = contributor.get("displayOrder")
        contributions.append(Contribution(artist_id, position, text(contributor.get("role")),
                                          order if isinstance(order, int) and not isinstance(order, bool)
                                          else position))
        if artist_id not in extract.artists:  # an artist with no artist file: keep what the artwork says
            extract.artists[artist_id] = Artist(
                id=artist_id, name=text(contributor.get("fc")), sort_name=text(contributor.get("mda")),
                gender=text(contributor.get("gender")), birth_year=year(contributor.get("birthYear")),
                date_text=text(contributor.get("date")))
    listed = defaultdict(list)
    for contribution in contributions:
        listed[contribution.artist_id, contribution.role].append(contribution.position)
    extract.duplicate_contributors.extend(
        DuplicateContributor(acno, artist_id, role, tuple(positions))
        for (artist_id, role), positions in listed.items() if len(positions) > 1)
    return contributions


# --- sizes

# Tate writes sizes one per line as "label: height x width [x depth] unit": "support: 762 x 1118
# mm", "frame: 1105 x 1458 x 145 mm", "image (each): 1220 x 1830 mm", "Support:  ea.316 x 473 mm",
# "support: 152 mm x 190 mm". Its `width`, `height` and `depth` fields are the first line's
# numbers in the order written, so `width` holds the height and `height` the width.
_SIZE = re.compile(
    r"^(?:(?P<label>[^:]*):)?\s*(?:each|ea\.)?\s*"
    r"(?P<first>\d+(?:\.\d+)?)\s*(?:mm|cm|m)?\s*x\s*(?P<second>\d+(?:\.\d+)?)"
    r"(?:\s*(?:mm|cm|m)?\s*x\s*(?P<third>\d+(?:\.\d+)?))?\s*(?P<unit>mm|cm|m)?\b", re.IGNORECASE)
_DIAMETER = re.compile(r"^(?P<label>[^:]*diameter[^:]*):\s*(?P<first>\d+(?:\.\d+)?)\s*(?P<unit>mm|cm|m)?\b",
                       re.IGNORECASE)
_DURATION_OR_WEIGHT = re.compile(r"\d\s*(?:min|sec|hours?|kg)\b", re.IGNORECASE)
_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0}


def _size(record: dict, dimensions: str | None, acno: str,
          extract: CollectionExtract) -> tuple[float | None, float | None, float | None]:
    """Height, width and depth in millimetres: the support's size where the dimensions text gives
    one (a line labelled support, else the first size given), else the record's fields with
    their order corrected. A text with a size that reads as neither is reported."""
    record_unit = (text(record.get("units")) or "mm").lower()
    sized = [size for line in (dimensions or "").splitlines() if (size := _size_line(line, record_unit))]
    if sized:
        support = next((size for label, *size in sized if label.lower().startswith("support")), None)
        return tuple(support or sized[0][1:])
    scale = _TO_MM.get(record_unit)

    def field(key):
        value = number(record.get(key))
        return value * scale if value is not None and scale else None

    height, width, depth = field("width"), field("height"), field("depth")
    if dimensions and height is None and width is None and re.search(r"\d", dimensions) \
            and not _DURATION_OR_WEIGHT.search(dimensions):
        extract.unparsed_dimensions.append(UnparsedDimensions(acno, dimensions))
    return height, width, depth


def _size_line(line: str, record_unit: str) -> tuple[str, float, float, float | None] | None:
    """(label, height, width, depth) in millimetres from one line of a dimensions text. A line
    without a unit is in the record's units (Tate's are all millimetres); a diameter alone is
    the height and width of a round work."""
    line = line.strip()
    match = _SIZE.match(line)
    if match:
        values = (match["first"], match["second"], match["third"])
    else:
        match = _DIAMETER.match(line)
        if not match:
            return None
        values = (match["first"], match["first"], None)
    scale = _TO_MM.get((match["unit"] or record_unit).lower())
    if scale is None:
        return None
    height, width, depth = (float(v) * scale if v is not None else None for v in values)
    if not height or not width:
        return None
    return (match["label"] or "").strip(), height, width, depth
