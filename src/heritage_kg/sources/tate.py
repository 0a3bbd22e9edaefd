"""Reader for the Tate collection (github.com/tategallery/collection): artworks, artists and
the subject taxonomy of `processed/subjects/`."""

from __future__ import annotations

from heritage_kg.config import get_settings
from heritage_kg.sources import READERS
from heritage_kg.sources.archive import CollectionArchive, open_source
from heritage_kg.sources.parsing import load_json_record, number, text, unique_records, year
from heritage_kg.sources.records import (
    Artist,
    Artwork,
    CatalogueGroup,
    CollectionExtract,
    Contribution,
    Movement,
    Place,
    SkippedRecord,
    SubjectConcept,
)

TAXONOMY_FILES = {0: "processed/subjects/level0list.json", 1: "processed/subjects/level1list.json",
                  2: "processed/subjects/level2list.json"}


def read_tate(source: str, *, progress=None) -> CollectionExtract:
    archive = open_source(source, "artworks", get_settings().cache_dir, progress=progress)
    extract = CollectionExtract("tate", source, archive.checksum())
    _read_taxonomy(archive, extract)
    _read_artists(archive, extract, progress)
    _read_artworks(archive, extract, progress)
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


def _read_taxonomy(archive: CollectionArchive, extract: CollectionExtract) -> None:
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
            extract.concepts[concept_id] = SubjectConcept(concept_id, name, level, parent if level else None)


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
    level 1 -> level 2); concepts met here but missing from the taxonomy files are added."""
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
    units = text(record.get("units"))
    scale = {"mm": 1.0, "cm": 10.0, "m": 1000.0}.get(units or "mm")

    def size(key):
        value = number(record.get(key))
        return value * scale if value is not None and scale else None

    contributions = []
    for position, contributor in enumerate(record.get("contributors") or []):
        artist_id = _id(contributor.get("id")) if isinstance(contributor, dict) else None
        if artist_id is None:
            continue
        contributions.append(Contribution(artist_id, text(contributor.get("role")),
                                          contributor.get("displayOrder") or position + 1))
        if artist_id not in extract.artists:  # an artist with no artist file: keep what the artwork says
            extract.artists[artist_id] = Artist(
                id=artist_id, name=text(contributor.get("fc")), sort_name=text(contributor.get("mda")),
                gender=text(contributor.get("gender")), birth_year=year(contributor.get("birthYear")),
                date_text=text(contributor.get("date")))
    return Artwork(
        id=acno,
        record_id=_id(record.get("id")),
        title=text(record.get("title")),
        date_text=text(record.get("dateText")),
        start_year=year(date_range.get("startYear")),
        end_year=year(date_range.get("endYear")),
        medium=text(record.get("medium")),
        classification=text(record.get("classification")),
        dimensions=text(record.get("dimensions")),
        width_mm=size("width"),
        height_mm=size("height"),
        depth_mm=size("depth"),
        credit_line=text(record.get("creditLine")),
        acquisition_year=year(record.get("acquisitionYear")),
        thumbnail_url=text(record.get("thumbnailUrl")),
        page_url=text(record.get("url")),
        catalogue_group=CatalogueGroup(_id(group["id"]), text(group.get("shortTitle")))
        if _id(group.get("id")) else None,
        contributions=contributions,
        subject_ids=_subject_leaves(record.get("subjects"), extract),
        movements=_movements(record.get("movements")),
    )
