"""The full real Tate graph, with CMOA beside it: the figures a curator would check."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import URIRef

from heritage_kg.graph.queries import load_query
from heritage_kg.graph.stats import collection_stats

pytestmark = pytest.mark.realdata
BASE = "https://w3id.org/heritage-kg/"


def test_collection_totals(real_store, tate_zip_records, cmoa_zip_counts):
    stats = collection_stats(real_store)
    totals = {c.label: (c.artworks, c.artists, c.concepts) for c in stats.collections}
    assert totals == {"Tate collection": (69202, 3539, 16641), "Carnegie Museum of Art collection": (28258, 5962, 0)}
    # the artworks and CMOA's creators, counted from the archives themselves
    assert totals["Tate collection"][0] == len(tate_zip_records)
    assert totals["Carnegie Museum of Art collection"][:2] == cmoa_zip_counts


def test_every_artworks_subject_tree_is_the_one_its_record_gives(real_store, tate_zip_records):
    query = load_query("artwork_subject_trees")
    _, rows = real_store.select(query.text, query.bindings({"collection": URIRef(BASE + "tate")}))
    in_graph = {str(r["accession"]): {tuple(edge.split("<")) for edge in str(r["edges"]).split()} for r in rows}

    assert len(tate_zip_records) == 69202
    differing = [acno for acno, record in tate_zip_records.items() if in_graph.get(acno, set()) != record.tree]
    assert differing == []
    assert set(in_graph) <= set(tate_zip_records)


def test_subject_table_matches_the_records_and_the_method(real_store, tate_zip_records):
    subjects = {s.label: (s.artworks, s.level1_in_use) for s in collection_stats(real_store).subjects}
    # The same figures from the JSON records: artworks under each top-level subject, and the
    # distinct level-1 subjects below it that some artwork uses.
    _, rows = real_store.select("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?id ?label WHERE { "
                                "?c skos:topConceptOf <%state/subjects> ; skos:notation ?id ; skos:prefLabel ?label }" % BASE)
    top_label = {str(r["id"]): str(r["label"]) for r in rows}
    artworks, level1 = Counter(), {label: set() for label in top_label.values()}
    for tree in (record.tree for record in tate_zip_records.values()):
        artworks.update(top_label[concept] for concept, parent in tree if parent == "")
        for concept, parent in tree:
            if parent in top_label:
                level1[top_label[parent]].add(concept)
    assert subjects == {label: (artworks[label], len(level1[label])) for label in top_label.values() if artworks[label]}
    # the figures: the list files had moved 36 nature and 6 society artworks into objects
    assert subjects["nature"][0] == 36477
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
    # 2,183,574 before issue 7, plus 1,073 sizes now read from the dimensions text and the 5
    # triples of N03970's third contribution (its second Thomas Bewick)
    assert real_store.triple_count(BASE + "graph/tate") == 2184652
