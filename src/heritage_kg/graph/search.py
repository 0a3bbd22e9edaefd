"""The search box's full-text index: every artwork's title and every artist's name, across
collections, in an SQLite FTS5 table made from the store (`search_entries.rq`). Built by
`heritage-kg search-index`, which `build-graph` runs after each build: the index is written
beside the old one and swapped in with one rename, so a reader sees the old index or the new one,
never half of one. Searches open the file afresh, so they see a rebuild at once.

Where it lives: beside an embedded store (`<store folder>/search.sqlite`); for a store that is a
SPARQL server, wherever `Settings.search_index` says (the service reads the server, the index is a
file of the service's own, rebuilt by `heritage-kg search-index --store URL` after each build)."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from heritage_kg.errors import QueryError, StoreError
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore, is_server_location

INDEX_FILE = "search.sqlite"
MAX_QUERY_CHARS = 200
MAX_WORDS = 12
# Words as FTS5's unicode61 tokenizer cuts them: letters and digits (any script), nothing else.
_WORD = re.compile(r"[^\W_]+")
KINDS = ("artwork", "artist")


def index_location(store_location: str, configured: Path | None = None) -> Path:
    """Where the search index of a store lives: `configured` if given, else beside an embedded store."""
    if configured is not None:
        return Path(configured)
    if is_server_location(store_location):
        raise StoreError(f"the store {store_location} is a SPARQL server: say where its search index lives "
                         f"with HERITAGE_KG_SEARCH_INDEX (a file path), then run 'heritage-kg search-index'")
    return Path(store_location) / INDEX_FILE


@dataclass(frozen=True)
class SearchHit:
    iri: str
    kind: str  # "artwork" or "artist"
    label: str  # the title or the name
    collection: str
    extra: str | None  # an artwork's date, an artist's life dates


@dataclass(frozen=True)
class SearchAnswer:
    query: str
    total: int  # every match, of which `hits` are the best
    hits: list[SearchHit]
    seconds: float


def build_index(store: GraphStore, path: Path) -> int:
    """Writes the index of `store` to `path`, replacing the one there at once; returns the number
    of entries. Entries are stored shortest text first, and searches return them in that order
    (see `SearchIndex.search`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # pyoxigraph's own terms (`.value`): turning 100,000 rows into rdflib terms takes as long as the query
    solutions = store.raw_query(load_query("search_entries").text)
    entries = sorted((s["text"].value, s["kind"].value, s["collection"].value, s["resource"].value,
                      s["extra"].value if s["extra"] is not None else None) for s in solutions)
    entries.sort(key=lambda entry: len(entry[0]))
    staging = path.with_name(f".{path.name}.{os.getpid()}-{time.time_ns()}")
    try:
        db = sqlite3.connect(staging)
        with db:
            db.execute("CREATE VIRTUAL TABLE entries USING fts5(text, kind UNINDEXED, collection UNINDEXED, "
                       "iri UNINDEXED, extra UNINDEXED, tokenize = 'unicode61 remove_diacritics 2', "
                       "prefix = '1 2 3')")
            db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?)", entries)
            db.execute("INSERT INTO entries(entries) VALUES ('optimize')")
        db.close()
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return len(entries)


def fts_query(text: str) -> str | None:
    """The FTS5 query for what a person typed: every word must occur, the last one also as the
    start of a longer word (as the search box is typed). None when there is no word. Words are
    quoted, so nothing typed is FTS5 syntax."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"a search is at most {MAX_QUERY_CHARS} characters, not {len(text)}")
    words = _WORD.findall(text.casefold())
    if len(words) > MAX_WORDS:
        raise QueryError(f"a search takes at most {MAX_WORDS} words, not {len(words)}")
    if not words:
        return None
    return " ".join([*(f'"{w}"' for w in words[:-1]), f'"{words[-1]}"*'])


class SearchIndex:
    def __init__(self, path: Path):
        self.path = Path(path)

    def search(self, text: str, *, limit: int = 20, kind: str | None = None) -> SearchAnswer:
        """The entries whose text has every word of `text` (the last as a prefix), shortest text
        first, and how many match in all; `kind` keeps artworks or artists only. Shortest first
        is the index's own order (rowid), so the first page is read without ranking every match:
        for a common word BM25 would score thousands of rows (50 ms for "the" on Tate), and for
        the one- and two-word searches a search box gets, its order is mostly the length anyway."""
        started = time.perf_counter()
        match = fts_query(text)
        if kind is not None and kind not in KINDS:
            raise QueryError(f"kind is one of {', '.join(KINDS)}, not {kind!r}")
        if match is None:
            return SearchAnswer(text, 0, [], time.perf_counter() - started)
        if not self.path.is_file():
            raise StoreError(f"no search index at {self.path}; build it with 'heritage-kg search-index' "
                             f"(build-graph builds it too)")
        # the SQL is one of two fixed texts; what was typed is only ever a bound value
        where = "entries MATCH ?" + (" AND kind = ?" if kind else "")
        values = (match, kind) if kind else (match,)
        # read-only, and a fresh connection each time: a rebuild swapped in is seen at once
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            total = db.execute(f"SELECT count(*) FROM entries WHERE {where}", values).fetchone()[0]
            rows = db.execute(f"SELECT iri, kind, text, collection, extra FROM entries WHERE {where} "
                              f"ORDER BY rowid LIMIT ?", (*values, int(limit))).fetchall()
        db.close()
        return SearchAnswer(text, total, [SearchHit(*row) for row in rows], time.perf_counter() - started)
