"""The search box's full-text index on the real Tate and CMOA graph: the artworks it finds by a
word of their title are exactly those whose title in the archives has a word starting so, counted
here from the zips without the code under test; artists are found by their names; what a person
types is never FTS5 syntax."""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile

import pytest
from conftest import CMOA_ZIP, TATE_ZIP, require_real_data

from heritage_kg.errors import QueryError
from heritage_kg.graph.search import SearchIndex, build_index

_LETTERS_AND_DIGITS = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """A title's words, lower-cased and without accents, cut at anything but a letter or digit."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _LETTERS_AND_DIGITS.findall("".join(c for c in decomposed if not unicodedata.combining(c)))


@pytest.fixture(scope="module")
def archive_titles() -> dict[str, list[str]]:
    """Every artwork's title in the two archives, by collection and accession number."""
    require_real_data(TATE_ZIP, CMOA_ZIP)
    titles: dict[str, list[str]] = {}
    with zipfile.ZipFile(TATE_ZIP) as archive:
        for name in archive.namelist():
            if "/artworks/" in name and name.endswith(".json"):
                record = json.loads(archive.read(name))
                titles.setdefault(f"tate {record['acno']}", []).append(record.get("title") or "")
    with zipfile.ZipFile(CMOA_ZIP) as archive:
        for name in archive.namelist():
            if "/cmoa/" in name and name.endswith(".json"):
                record = json.loads(archive.read(name))
                if record.get("accession_number"):
                    titles.setdefault(f"cmoa {record['accession_number']}", []).append(record.get("title") or "")
    return titles


@pytest.fixture(scope="module")
def index(real_store, tmp_path_factory) -> SearchIndex:
    path = tmp_path_factory.mktemp("search") / "search.sqlite"
    build_index(real_store, path)
    return SearchIndex(path)


@pytest.mark.parametrize("typed", ["storm", "Portrait", "sea", "harbour", "château"])
def test_the_artworks_found_by_a_word_are_those_whose_title_has_it(index, archive_titles, typed):
    word = words(typed)[0]
    for collection in ("tate", "cmoa"):
        expected = sum(any(any(w.startswith(word) for w in words(t)) for t in records)
                       for key, records in archive_titles.items() if key.startswith(collection + " "))
        found = index.search(typed, kind="artwork", limit=200)
        in_collection = index.search(typed, kind="artwork", limit=100_000).hits
        assert sum(hit.collection.endswith("/" + collection) for hit in in_collection) == expected, collection
        assert found.total == len(in_collection)
    assert found.total > 0


def test_every_word_must_match_and_the_shortest_titles_come_first(index, archive_titles):
    both = index.search("snow storm", kind="artwork", limit=1000)
    expected = sum(any({"snow"} <= set(words(t)) and any(w.startswith("storm") for w in words(t)) for t in records)
                   for records in archive_titles.values())
    assert both.total == expected > 0
    assert all({"snow"} <= set(words(hit.label)) for hit in both.hits)
    lengths = [len(hit.label) for hit in index.search("sea", limit=100).hits]
    assert lengths == sorted(lengths)


def test_artists_are_found_by_their_names_across_collections(index):
    turner = index.search("turner joseph", kind="artist").hits
    assert any(hit.iri.endswith("/tate/artist/558") for hit in turner)
    warhol = index.search("warhol", kind="artist").hits
    assert {hit.collection.rsplit("/", 1)[-1] for hit in warhol} == {"tate", "cmoa"}


@pytest.mark.parametrize("typed", ['" OR 1', "NEAR(a b)", "*", "storm AND", "-sea", "col:storm", "^storm"])
def test_what_is_typed_is_never_fts5_syntax(index, typed):
    answer = index.search(typed)
    assert answer.total == index.search(" ".join(words(typed))).total


def test_over_long_searches_are_refused(index):
    with pytest.raises(QueryError, match="at most 200 characters"):
        index.search("storm " * 40)
