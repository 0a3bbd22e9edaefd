"""The full real Tate graph, with CMOA beside it: the figures a curator would check."""

from __future__ import annotations

import pytest
from rdflib import URIRef

from heritage_kg.graph.queries import load_query
from heritage_kg.graph.stats import collection_stats

pytestmark = pytest.mark.realdata
BASE = "https://w3id.org/heritage-kg/"


def test_collection_totals(real_store):
    stats = collection_stats(real_store)
    totals = {c.label: (c.artworks, c.artists, c.concepts) for c in stats.collections}
    assert totals == {"Tate collection": (69202, 3539, 16641), "Carnegie Museum of Art collection": (28258, 5962, 0)}


def test_subject_table_matches_the_method(real_store):
    subjects = {s.label: (s.artworks, s.level1_in_use) for s in collection_stats(real_store).subjects}
    assert subjects["nature"] == (36441, 18)
    assert subjects["architecture"] == (29788, 14)
    assert subjects["people"] == (20799, 14)
    assert subjects["abstraction"] == (8503, 2)
    # method.md: the top-level subjects with at least ~3,000 artworks
    assert {label for label, (n, _) in subjects.items() if n >= 3000} == {
        "nature", "architecture", "places", "people", "society", "objects", "abstraction",
        "emotions, concepts and ideas", "work and occupations", "symbols & personifications", "leisure and pastimes"}


def test_medium_group_sizes(real_store):
    tate = {g.label: g.artworks["Tate collection"] for g in collection_stats(real_store).medium_groups}
    assert tate == {"graphite": 32323, "watercolour & gouache": 8100, "painting": 5635, "ink & pen": 4797,
                    "engraving & intaglio": 3645, "etching": 3549, "screenprint": 3477, "lithograph": 3095,
                    "photography": 1817, "sculpture": 952}


def test_a_known_artwork(real_store):
    query = load_query("artwork_summary")
    _, rows = real_store.select(query.text, query.bindings({"artwork": URIRef(BASE + "tate/artwork/A00001")}))
    (row,) = rows
    assert str(row["title"]).startswith("A Figure Bowing before a Seated Old Man")
    assert str(row["artists"]) == "Robert Blake"
    assert set(str(row["subjects"]).split("; ")) == {"arm/arms raised", "kneeling", "sitting", "man", "man, old", "blessing"}
    assert str(row["medium"]) == "Watercolour, ink, chalk and graphite on paper. Verso: graphite on paper"


def test_cmoa_beside_tate(real_store):
    query = load_query("artworks_by_artist_name")
    _, rows = real_store.select(query.text, query.bindings({"needle": "Giacomo Balla"}))
    assert {(str(r["artwork"]), str(r["title"])) for r in rows} == {
        (BASE + "tate/artwork/T01222", "Abstract Speed - The Car has Passed"),
        (BASE + "cmoa/artwork/56.20", "Automobile Dynamics")}
    assert real_store.triple_count(BASE + "graph/tate") == 2183574
