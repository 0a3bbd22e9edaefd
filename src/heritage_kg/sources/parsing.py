"""Lenient conversions for source fields: museum data holds "", "0", null and prose where a
number is expected. Each returns None rather than guess."""

from __future__ import annotations

import json
import re

from heritage_kg.sources.records import SkippedRecord

_YEAR = re.compile(r"^\s*(-?\d{1,4})")


def text(value) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def year(value) -> int | None:
    """A year from an int, "1922", or an ISO date "1955-02-10"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    match = _YEAR.match(str(value))
    return int(match.group(1)) if match else None


def number(value) -> float | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if result > 0 else None


def load_json_record(raw: bytes, path: str, skipped: list[SkippedRecord], expect: type = dict):
    """The JSON object (or list, with `expect=list`) in `raw`, or None with the reason recorded
    in `skipped`."""
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        skipped.append(SkippedRecord(path, f"malformed JSON: {exc}"))
        return None
    if not isinstance(record, expect):
        wanted = "a JSON object" if expect is dict else "a JSON list"
        skipped.append(SkippedRecord(path, f"expected {wanted}, found {type(record).__name__}"))
        return None
    return record


def unique_records(archive, folder: str, skipped: list[SkippedRecord], identifier, *, missing: str,
                   duplicate: str, progress=None, description: str = ""):
    """Each readable JSON object under `folder` with its identifier (`identifier(record)`), in
    path order. Malformed records, records without an identifier and repeats of an identifier
    already seen are skipped, with their reason, into `skipped`."""
    paths = archive.files(folder)
    task = progress.add_task(description, total=len(paths)) if progress else None
    seen: set[str] = set()
    for path in paths:
        record = load_json_record(archive.read(path), path, skipped)
        if progress:
            progress.advance(task)
        if record is None:
            continue
        key = identifier(record)
        if key is None:
            skipped.append(SkippedRecord(path, missing))
        elif key in seen:
            skipped.append(SkippedRecord(path, f"{duplicate} {key}"))
        else:
            seen.add(key)
            yield key, record
