"""Reader for the Carnegie Museum of Art collection (github.com/cmoa/collection): one JSON file
per object under `cmoa/`, with its creators inline. CMOA records carry no subject keywords."""

from __future__ import annotations

from pathlib import Path

from heritage_kg.sources import READERS
from heritage_kg.sources.archive import open_source
from heritage_kg.sources.parsing import number, text, unique_records, year
from heritage_kg.sources.records import (
    Artist,
    Artwork,
    CollectionExtract,
    Contribution,
    Place,
)

MM_PER_INCH = 25.4


def _guid(value) -> str | None:
    """`cmoa:things/3e51...` or `cmoa:parties/de3a...` -> the GUID."""
    value = text(value)
    return value.rsplit("/", 1)[-1] if value else None


def _inches_to_mm(value) -> float | None:
    value = number(value)
    return round(value * MM_PER_INCH, 1) if value is not None else None


def read_cmoa(source: str, *, cache_dir: Path | None = None, progress=None) -> CollectionExtract:
    archive = open_source(source, "cmoa", cache_dir, progress=progress)
    extract = CollectionExtract("cmoa", source, archive.checksum())
    records = unique_records(archive, "cmoa", extract.skipped, lambda r: text(r.get("accession_number")),
                             missing="object record without an accession_number", duplicate="duplicate accession number",
                             progress=progress, description="read CMOA objects")
    for accession, record in records:
        extract.artworks.append(_artwork(record, accession, extract))
    return extract


READERS["cmoa"] = read_cmoa


def _artwork(record: dict, accession: str, extract: CollectionExtract) -> Artwork:
    contributions = []
    for position, creator in enumerate(record.get("creator") or []):
        artist_id = _guid(creator.get("artist_id")) if isinstance(creator, dict) else None
        if artist_id is None:
            continue
        contributions.append(Contribution(artist_id, position + 1, text(creator.get("role")), position + 1))
        if artist_id not in extract.artists:
            birth, death = text(creator.get("birth_place")), text(creator.get("death_place"))
            extract.artists[artist_id] = Artist(
                id=artist_id,
                name=text(creator.get("full_name")),
                sort_name=text(creator.get("cited_name")),
                birth_year=year(creator.get("birth_date")),
                death_year=year(creator.get("death_date")),
                birth_place=Place(birth) if birth else None,
                death_place=Place(death) if death else None,
                nationality=text(creator.get("nationality")),
            )
    images = [image for image in record.get("images") or [] if isinstance(image, dict)]
    return Artwork(
        id=accession,
        record_id=_guid(record.get("id")),
        title=text(record.get("title")),
        date_text=text(record.get("creation_date")),
        start_year=year(record.get("creation_date_earliest")),
        end_year=year(record.get("creation_date_latest")),
        medium=text(record.get("medium")),
        classification=text(record.get("classification")),
        width_mm=_inches_to_mm(record.get("item_width")),
        height_mm=_inches_to_mm(record.get("item_height")),
        depth_mm=_inches_to_mm(record.get("item_depth")),
        credit_line=text(record.get("credit_line")),
        acquisition_year=year(record.get("date_acquired")),
        department=text(record.get("department")),
        thumbnail_url=text(images[0].get("image_url")) if images else None,
        page_url=text(record.get("web_url")),
        contributions=contributions,
    )
