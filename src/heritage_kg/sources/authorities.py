"""Readers for the authority files that carry shared identifiers (Wikidata, Getty ULAN) for
artists: the constituents of the National Gallery of Art, MoMA's and the Whitney's artists, and,
where a network is available, people found on Wikidata's public SPARQL service."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from heritage_kg.errors import OfflineDownloadError, SourceError
from heritage_kg.sources.parsing import text, year
from heritage_kg.sources.records import SkippedRecord

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
# Getty's ULAN entity (the person, as Wikidata's P245 and Getty's own LOD name it) and its web page.
ULAN_ENTITY = "http://vocab.getty.edu/ulan/"
ULAN_PAGE = "http://vocab.getty.edu/page/ulan/"

_QID = re.compile(r"^Q[1-9]\d*$")
_ULAN = re.compile(r"^500\d{6}$")


@dataclass(frozen=True, slots=True)
class AuthorityRecord:
    """One person (or firm) as an authority file describes them. Years are None where the file
    does not say, or says something that is not a life date (a floruit, a century)."""

    authority: str  # the authority's short name: "nga", "moma", "whitney", "wikidata"
    record_id: str
    name: str  # forward order: "Joseph Mallord William Turner"
    sort_name: str | None = None  # "Turner, Joseph Mallord William", where the file has one
    birth_year: int | None = None
    death_year: int | None = None
    nationality: str | None = None
    wikidata_id: str | None = None  # "Q159758"
    ulan_id: str | None = None  # "500026846"
    anonymous: bool = False  # the file itself says the record is not a named person

    def target_iris(self) -> list[str]:
        """The shared identifiers of the record as the IRIs the links point at."""
        iris = []
        if self.wikidata_id:
            iris.append(WIKIDATA_ENTITY + self.wikidata_id)
        if self.ulan_id:
            iris.append(ULAN_ENTITY + self.ulan_id)
        return iris


def ulan_entity(iri: str) -> str:
    """The ULAN entity a Getty ULAN page is about; any other IRI as it is."""
    return ULAN_ENTITY + iri[len(ULAN_PAGE):] if iri.startswith(ULAN_PAGE) else iri


def ulan_page(iri: str) -> str | None:
    """The Getty web page of a ULAN entity; None for any other IRI."""
    return ULAN_PAGE + iri[len(ULAN_ENTITY):] if iri.startswith(ULAN_ENTITY) else None


@dataclass
class AuthorityFile:
    """The records read from one authority file, and the rows skipped with the reason."""

    authority: str
    label: str
    location: str
    checksum: str
    records: list[AuthorityRecord] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)


@dataclass(frozen=True)
class AuthorityFormat:
    """How one published authority file is read: its file name, its label and its row reader."""

    authority: str
    file_name: str
    label: str
    columns: tuple[str, ...]  # the columns a file must have to be this format
    read_row: Callable[[dict[str, str]], AuthorityRecord]


class MalformedRow(ValueError):
    """A row that cannot be read as a record; it is reported and skipped."""


def _identifier(value: str | None, pattern: re.Pattern, what: str) -> str | None:
    value = text(value)
    if value is None:
        return None
    if value.endswith(".0"):  # spreadsheets turn ids into floats
        value = value[:-2]
    if not pattern.match(value):
        raise MalformedRow(f"malformed {what} {value!r}")
    return value


def _life_year(value: str | None) -> int | None:
    """MoMA and the Whitney write 0 for "not known" (a death year of 0: alive or unknown)."""
    result = year(value)
    return result if result else None


_RANGE = re.compile(r"\d{3,4}\s*[-–]\s*(?:c\.\s*)?\d{3,4}")


def _nga_row(row: dict[str, str]) -> AuthorityRecord:
    # NGA fills begin/end years even where the display date says otherwise: "born 1881" comes
    # with an end year of 1981 and "died 1907" with an estimated birth year, and "active ..." or
    # "19th century" are not life dates. The display date decides which years are real.
    display_date = text(row.get("displaydate")) or ""
    birth, death = _life_year(row.get("beginyear")), _life_year(row.get("endyear"))
    has_range = bool(_RANGE.search(display_date))
    if "active" in display_date or "century" in display_date:
        birth = death = None
    elif "born" in display_date and not has_range:
        death = None
    elif "died" in display_date and not has_range:
        birth = None
    name = text(row.get("forwarddisplayname")) or text(row.get("preferreddisplayname"))
    if name is None:
        raise MalformedRow("no display name")
    return AuthorityRecord(
        authority="nga", record_id=text(row.get("constituentid")) or name, name=name,
        sort_name=text(row.get("preferreddisplayname")), birth_year=birth, death_year=death,
        nationality=text(row.get("nationality")),
        wikidata_id=_identifier(row.get("wikidataid"), _QID, "Wikidata id"),
        ulan_id=_identifier(row.get("ulanid"), _ULAN, "ULAN id"),
        anonymous=(text(row.get("constituenttype")) or "").lower() == "anonymous",
    )


def _moma_row(row: dict[str, str]) -> AuthorityRecord:
    name = text(row.get("DisplayName"))
    if name is None:
        raise MalformedRow("no display name")
    return AuthorityRecord(
        authority="moma", record_id=text(row.get("ConstituentID")) or name, name=name,
        birth_year=_life_year(row.get("BeginDate")), death_year=_life_year(row.get("EndDate")),
        nationality=text(row.get("Nationality")),
        wikidata_id=_identifier(row.get("Wiki QID"), _QID, "Wikidata id"),
        ulan_id=_identifier(row.get("ULAN"), _ULAN, "ULAN id"),
    )


def _whitney_row(row: dict[str, str]) -> AuthorityRecord:
    name = text(row.get("display_name"))
    if name is None:
        raise MalformedRow("no display name")
    return AuthorityRecord(
        authority="whitney", record_id=text(row.get("id")) or name, name=name,
        birth_year=_life_year(row.get("begin_date")), death_year=_life_year(row.get("end_date")),
        wikidata_id=_identifier(row.get("wikidata_id"), _QID, "Wikidata id"),
        ulan_id=_identifier(row.get("getty_ulan_id"), _ULAN, "ULAN id"),
    )


FORMATS = {
    f.authority: f for f in (
        AuthorityFormat("nga", "nga-constituents.csv", "National Gallery of Art (Washington) constituents",
                        ("constituentid", "forwarddisplayname", "wikidataid", "ulanid"), _nga_row),
        AuthorityFormat("moma", "moma-artists.csv", "Museum of Modern Art artists",
                        ("ConstituentID", "DisplayName", "Wiki QID", "ULAN"), _moma_row),
        AuthorityFormat("whitney", "whitney-artists.csv", "Whitney Museum of American Art artists",
                        ("id", "display_name", "wikidata_id", "getty_ulan_id"), _whitney_row),
    )
}


def read_authority_file(path: Path, form: AuthorityFormat) -> AuthorityFile:
    """Every readable row of one authority file; a row that cannot be read is skipped with the
    reason (its line number in the file)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the authority file {path}: {exc}") from None
    result = AuthorityFile(form.authority, form.label, str(path), "sha256:" + hashlib.sha256(raw).hexdigest())
    try:
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise SourceError(f"the authority file {path} is not UTF-8 text ({exc})") from None
    reader = csv.DictReader(lines)
    missing = [c for c in form.columns if c not in (reader.fieldnames or [])]
    if missing:
        raise SourceError(f"{path} is not a {form.label} file: it lacks the columns {', '.join(missing)}")
    for row in reader:
        where = f"{path.name}:{reader.line_num}"
        if None in row or any(value is None for value in row.values()):
            found = sum(1 for k, v in row.items() if k is not None and v is not None) + len(row.get(None) or [])
            result.skipped.append(SkippedRecord(where, f"expected {len(reader.fieldnames)} fields, found {found}"))
            continue
        try:
            result.records.append(form.read_row(row))
        except MalformedRow as exc:
            result.skipped.append(SkippedRecord(where, str(exc)))
    return result


def read_authorities(folder: Path, authorities: Iterable[str] | None = None) -> list[AuthorityFile]:
    """The authority files found in `folder` (by their published file names). A folder holding
    none of them is an error that says which files are expected."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"no authority folder at {folder}: put {', '.join(f.file_name for f in FORMATS.values())} "
                          f"there, pass --authorities DIR, or --no-authorities to link the collections to one another only")
    wanted = list(authorities) if authorities is not None else list(FORMATS)
    unknown = [name for name in wanted if name not in FORMATS]
    if unknown:
        raise SourceError(f"unknown authority {', '.join(unknown)}; known: {', '.join(FORMATS)}")
    files = [read_authority_file(folder / FORMATS[name].file_name, FORMATS[name])
             for name in wanted if (folder / FORMATS[name].file_name).is_file()]
    if not files:
        raise SourceError(f"{folder} holds none of the authority files "
                          f"{', '.join(FORMATS[name].file_name for name in wanted)}")
    return files


# --- Wikidata's public SPARQL service, for --online ---

def query_wikidata_people(endpoint: str, query_text: str, names: list[str], *, timeout_s: float = 30.0,
                          batch: int = 200) -> AuthorityFile:
    """People on Wikidata whose English label is one of `names`, with life years and ULAN id.
    `query_text` holds a `#NAMES` line that becomes a VALUES block of the names. An unreachable
    service raises OfflineDownloadError, saying that the files are used instead."""
    result = AuthorityFile("wikidata", "Wikidata (public SPARQL service)", endpoint, "")
    seen: set[str] = set()
    headers = {"Accept": "application/sparql-results+json", "User-Agent": "heritage-kg (artist reconciliation)"}
    with httpx.Client(timeout=timeout_s, headers=headers) as client:
        for start in range(0, len(names), batch):
            values = "VALUES ?label { " + " ".join(_sparql_string(n) + "@en" for n in names[start:start + batch]) + " }"
            try:
                answer = client.post(endpoint, data={"query": query_text.replace("#NAMES", values)})
            except httpx.TransportError as exc:
                raise OfflineDownloadError(
                    f"cannot reach Wikidata at {endpoint} ({type(exc).__name__}: {exc or 'no answer'}); "
                    f"offline: matching against the authority files only") from None
            if answer.status_code != 200:
                raise OfflineDownloadError(f"Wikidata at {endpoint} answered {answer.status_code}; "
                                           f"matching against the authority files only")
            try:
                bindings = answer.json()["results"]["bindings"]
            except (ValueError, KeyError, TypeError):
                raise OfflineDownloadError(f"Wikidata at {endpoint} did not answer with SPARQL JSON results; "
                                           f"matching against the authority files only") from None
            for row in bindings:
                item = row.get("item", {}).get("value", "")
                qid = item.rsplit("/", 1)[-1]
                label = row.get("label", {}).get("value")
                if not _QID.match(qid) or not label or qid in seen:
                    continue
                seen.add(qid)
                ulan = row.get("ulan", {}).get("value")
                result.records.append(AuthorityRecord(
                    authority="wikidata", record_id=qid, name=label,
                    birth_year=year(row.get("birth", {}).get("value")),
                    death_year=year(row.get("death", {}).get("value")),
                    wikidata_id=qid, ulan_id=ulan if ulan and _ULAN.match(ulan) else None))
    return result


def _sparql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
