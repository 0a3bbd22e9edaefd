"""The graph a build writes: IRIs, mapping, provenance, atomic and reproducible builds."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest
from rdflib import URIRef

from heritage_kg.errors import BuildError, QueryError, StoreError
from heritage_kg.graph.build import build_graph
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import open_store

from conftest import CMOA_FIXTURE, TATE_FIXTURE, TATE_ZIP, require_real_data

BASE = "https://w3id.org/heritage-kg/"
N00530 = URIRef(BASE + "tate/artwork/N00530")


def objects(store, subject, predicate):
    _, rows = store.select("SELECT ?o WHERE { ?s ?p ?o }", {"s": URIRef(subject), "p": URIRef(predicate)})
    return sorted(str(r["o"]) for r in rows)


def test_artwork_statements(fixture_store):
    assert objects(fixture_store, N00530, HK + "title") == ["Snow Storm - Steam-Boat off a Harbour's Mouth"]
    assert objects(fixture_store, N00530, HK + "creator") == [BASE + "tate/artist/558"]
    assert objects(fixture_store, N00530, HK + "subject") == [BASE + "tate/subject/195", BASE + "tate/subject/218",
                                                              BASE + "tate/subject/223"]
    assert objects(fixture_store, N00530, HK + "mediumGroup") == [BASE + "medium/painting"]
    # "support: 914 x 1219 mm", whose width field says 914: height x width, as the text says
    assert objects(fixture_store, N00530, HK + "heightMm") == ["914.0"]
    assert objects(fixture_store, N00530, HK + "widthMm") == ["1219.0"]
    assert objects(fixture_store, N00530, HK + "startYear") == ["1842"]
    assert objects(fixture_store, N00530, HK + "thumbnail") == ["http://www.tate.org.uk/art/images/work/N/N00/N00530_8.jpg"]
    assert objects(fixture_store, N00530, HK + "inCollection") == [BASE + "tate"]
    assert objects(fixture_store, N00530, HK + "movement") == [BASE + "tate/movement/300"]


def test_contributions_keep_their_roles(fixture_store):
    _, rows = fixture_store.select(
        "PREFIX hk: <https://w3id.org/heritage-kg/ontology#> SELECT ?artist ?role ?order WHERE { "
        "?artwork hk:contribution ?c . ?c hk:contributor ?artist ; hk:role ?role ; hk:displayOrder ?order } ORDER BY ?order",
        {"artwork": URIRef(BASE + "tate/artwork/T00002")})
    assert [(str(r["artist"]), str(r["role"]), int(r["order"])) for r in rows] == [
        (BASE + "tate/artist/2000", "engraver", 1), (BASE + "tate/artist/558", "after", 2)]


def test_each_listed_contributor_is_its_own_contribution(fixture_store):
    # D00001 lists Turner twice at displayOrder 1: two contributions, named by their place in the list
    _, rows = fixture_store.select(
        "PREFIX hk: <https://w3id.org/heritage-kg/ontology#> SELECT ?c ?order WHERE { "
        "?artwork hk:contribution ?c . ?c hk:displayOrder ?order } ORDER BY ?c",
        {"artwork": URIRef(BASE + "tate/artwork/D00001")})
    assert [(str(r["c"]), int(r["order"])) for r in rows] == [
        (BASE + "tate/artwork/D00001/contribution/1", 1), (BASE + "tate/artwork/D00001/contribution/2", 1)]


def test_the_build_reports_what_it_noticed_in_loaded_records(tmp_path):
    report = build_graph(open_store(tmp_path / "store"), "tate", str(TATE_FIXTURE))
    assert [(c.concept_id, c.record_parent, c.list_parent) for c in report.subject_conflicts] == [("218", "61", "95")]
    assert [u.artwork_id for u in report.unparsed_dimensions] == ["T00005"]
    assert [(d.artwork_id, d.positions) for d in report.duplicate_contributors] == [("D00001", (1, 2))]


def test_the_builds_provenance_keeps_its_notes(fixture_store):
    _, builds = fixture_store.select(load_query("graph_builds").text)
    tate = next(r for r in builds if str(r["collection"]) == "tate")
    query = load_query("build_source_notes")
    _, notes = fixture_store.select(query.text, query.bindings({"build": tate["build"]}))
    assert [(str(r["kind"]), str(r["record"])) for r in notes] == [
        ("duplicate contributor", "D00001"), ("subject parent conflict", "processed/subjects/level2list.json"),
        ("unparsed dimensions", "T00005")]
    conflict = next(str(r["reason"]) for r in notes if str(r["kind"]) == "subject parent conflict")
    assert conflict == ("subject 218 (snow) is under 61 in the artwork records but under 95 in "
                        "processed/subjects/level2list.json; the records' parent is kept")


def test_taxonomy_is_skos_with_levels_and_broader_links(fixture_store):
    snow = BASE + "tate/subject/218"
    # the list file says people › adults (95); the artwork record's tree, which wins, landscape (61)
    assert objects(fixture_store, snow, "http://www.w3.org/2004/02/skos/core#broader") == [BASE + "tate/subject/61"]
    assert objects(fixture_store, snow, HK + "level") == ["2"]
    assert objects(fixture_store, BASE + "tate/subject/60", "http://www.w3.org/2004/02/skos/core#topConceptOf") == [
        BASE + "tate/subjects"]
    # ancestors follow by skos:broader*: "snow" is under "nature"
    assert fixture_store.ask("ASK { ?c <http://www.w3.org/2004/02/skos/core#broader>+ ?top }",
                             {"c": URIRef(snow), "top": URIRef(BASE + "tate/subject/60")})


def test_artists_places_and_medium_groups(fixture_store):
    hepworth = BASE + "tate/artist/3001"
    assert objects(fixture_store, hepworth, HK + "name") == ["Dame Barbara Hepworth"]
    assert objects(fixture_store, hepworth, HK + "deathPlace") == [BASE + "tate/place/st%20ives,%20united%20kingdom"]
    assert objects(fixture_store, BASE + "tate/artwork/D00001", HK + "mediumGroup") == [
        BASE + "medium/graphite", BASE + "medium/watercolour-gouache"]
    assert objects(fixture_store, BASE + "tate/artwork/T00002", HK + "mediumGroup") == [
        BASE + "medium/engraving-intaglio", BASE + "medium/etching"]
    assert objects(fixture_store, BASE + "tate/artwork/T00005", HK + "mediumGroup") == []


def test_cmoa_loads_beside_tate_in_its_own_graph(fixture_store):
    assert {BASE + "graph/tate", BASE + "graph/cmoa"} <= set(fixture_store.named_graphs())
    coffee = BASE + "cmoa/artwork/2013.29.1A-B"
    assert objects(fixture_store, coffee, HK + "title") == ["Coffee pot and lid"]
    assert objects(fixture_store, coffee, HK + "inCollection") == [BASE + "cmoa"]
    assert objects(fixture_store, BASE + "cmoa/artwork/99.4", HK + "widthMm") == ["508.0"]
    assert fixture_store.triple_count(BASE + "graph/cmoa") > 0
    assert objects(fixture_store, BASE + "tate/artwork/N00530", HK + "title")  # Tate survived the CMOA build


def test_a_source_field_that_is_not_an_iri_is_left_out(fixture_store):
    # T00005's thumbnail URL holds a space
    assert objects(fixture_store, BASE + "tate/artwork/T00005", HK + "thumbnail") == []
    assert objects(fixture_store, BASE + "tate/artwork/T00005", HK + "title") == ["Work without a medium"]


def test_each_build_is_recorded_with_its_source_checksum_and_skipped_records(fixture_store):
    _, builds = fixture_store.select(load_query("graph_builds").text)
    tate = next(r for r in builds if str(r["collection"]) == "tate")
    assert str(tate["source"]) == str(TATE_FIXTURE)
    assert int(tate["artworks"]) == 6 and int(tate["skipped"]) == 5
    assert str(tate["checksum"]).startswith("sha256:") and len(str(tate["checksum"])) == 71
    query = load_query("build_skipped_records")
    _, skipped = fixture_store.select(query.text, query.bindings({"build": tate["build"]}))
    assert ("artworks/t/000/t00008-1008.json", "expected a JSON object, found list") in [
        (str(r["path"]), str(r["reason"])) for r in skipped]


def test_the_zip_checksum_is_the_files_sha256(tmp_path):
    from test_sources import zip_folder

    archive = zip_folder(TATE_FIXTURE, tmp_path / "tate.zip")
    store = open_store(tmp_path / "store")
    report = build_graph(store, "tate", str(archive))
    assert report.checksum == "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()


def test_rebuilding_from_the_same_source_gives_the_same_graph(tmp_path):
    store = open_store(tmp_path / "store")
    build_graph(store, "tate", str(TATE_FIXTURE))
    first = store.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <%sgraph/tate> { ?s ?p ?o } }" % BASE)
    build_graph(store, "tate", str(TATE_FIXTURE))
    second = store.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <%sgraph/tate> { ?s ?p ?o } }" % BASE)
    assert len(first) == len(second) > 100
    assert set(first) == set(second)
    # the build history grows, one activity per build
    assert len(store.select(load_query("graph_builds").text)[1]) == 2
    # only the current generation is kept on disk
    assert len(list((tmp_path / "store" / "generations").iterdir())) == 1


def test_a_store_given_by_a_relative_path_keeps_its_graphs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_store("data/store")
    build_graph(store, "tate", str(TATE_FIXTURE))
    build_graph(store, "cmoa", str(CMOA_FIXTURE))
    reader = open_store("data/store", read_only=True)
    assert {BASE + "graph/tate", BASE + "graph/cmoa"} <= set(reader.named_graphs())
    assert objects(reader, N00530, HK + "title") == ["Snow Storm - Steam-Boat off a Harbour's Mouth"]
    assert len(list((tmp_path / "data" / "store" / "generations").iterdir())) == 1


def test_a_failed_build_leaves_the_previous_store_intact(tmp_path):
    store = open_store(tmp_path / "store")
    build_graph(store, "tate", str(TATE_FIXTURE))
    before = store.triple_count()
    empty = tmp_path / "empty" / "artworks"
    empty.mkdir(parents=True)
    with pytest.raises(BuildError, match="no readable tate artwork records"):
        build_graph(store, "tate", str(empty.parent))
    broken = tmp_path / "broken.nq"
    broken.write_text('<http://example.org/a> <http://example.org/b> "unterminated .\n')
    with pytest.raises(SyntaxError):
        store.replace_graphs(broken, [BASE + "graph/tate"])
    assert store.triple_count() == before
    assert objects(store, N00530, HK + "title") == ["Snow Storm - Steam-Boat off a Harbour's Mouth"]
    assert len(list((tmp_path / "store" / "generations").iterdir())) == 1


def test_a_stream_that_fails_midway_publishes_nothing(tmp_path):
    store = open_store(tmp_path / "store")
    build_graph(store, "tate", str(TATE_FIXTURE))
    before = store.triple_count()
    graph = BASE + "graph/tate"

    def quads_then(failure):
        def write(out):
            for i in range(50_000):  # more than a pipe holds: the loader is reading meanwhile
                out.write(f'<{BASE}x/{i}> <{HK}title> "t{i}" <{graph}> .\n')
            failure(out)
        return write

    def broken_line(out):
        out.write('<http://example.org/a> <http://example.org/b> "unterminated .\n')

    def crash(out):
        raise RuntimeError("the mapping crashed")

    with pytest.raises(SyntaxError):
        store.publish_graphs(quads_then(broken_line), [graph])
    with pytest.raises(RuntimeError, match="the mapping crashed"):
        store.publish_graphs(quads_then(crash), [graph])
    assert store.triple_count() == before
    assert objects(store, N00530, HK + "title") == ["Snow Storm - Steam-Boat off a Harbour's Mouth"]
    assert len(list((tmp_path / "store" / "generations").iterdir())) == 1


def test_an_interrupted_build_leaves_the_previous_store_readable(tmp_path):
    require_real_data(TATE_ZIP)
    store_dir = tmp_path / "store"
    store = open_store(store_dir)
    build_graph(store, "tate", str(TATE_FIXTURE))
    before = store.triple_count()
    store.close()
    env = {**os.environ, "HERITAGE_KG_STORE": str(store_dir)}
    build = subprocess.Popen([sys.executable, "-m", "heritage_kg.cli", "build-graph", "--source", str(TATE_ZIP)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # wait until it is loading into its new generation, then kill it without warning
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((store_dir / "generations").iterdir())) < 2:
        time.sleep(0.2)
    time.sleep(1.0)
    build.send_signal(signal.SIGKILL)
    build.wait()
    reader = open_store(store_dir, read_only=True)
    assert reader.triple_count() == before
    assert objects(reader, N00530, HK + "title") == ["Snow Storm - Steam-Boat off a Harbour's Mouth"]
    reader.close()
    # the next build clears what the killed one left behind
    build_graph(open_store(store_dir), "tate", str(TATE_FIXTURE))
    assert len(list((store_dir / "generations").iterdir())) == 1


def test_a_missing_store_is_a_clear_error_for_readers(tmp_path):
    with pytest.raises(StoreError, match="build one with"):
        open_store(tmp_path / "nothing", read_only=True).triple_count()


def test_a_bad_query_is_a_query_error(fixture_store):
    with pytest.raises(QueryError, match="SPARQL syntax error"):
        fixture_store.select("SELECT ?x WHERE { ?x ")
    with pytest.raises(QueryError, match="takes parameters"):
        load_query("artwork_summary").bindings({"nope": "x"})


def test_bound_parameters_cannot_change_the_query(fixture_store):
    query = load_query("titles_containing")
    hostile = '") } } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o FILTER("'
    _, rows = fixture_store.select(query.text, query.bindings({"needle": hostile}))
    assert rows == []
    _, rows = fixture_store.select(query.text, query.bindings({"needle": "storm"}))
    assert [str(r["artwork"]) for r in rows] == [str(N00530)]
    assert fixture_store.triple_count() > 0


def sst_inodes(generation) -> set[int]:
    return {path.stat().st_ino for path in generation.glob("*.sst")}


def test_a_small_graph_is_built_on_a_checkpoint_and_a_large_one_copies_what_is_kept(tmp_path):
    """A graph small beside the store (CMOA beside Tate) goes into a checkpoint of the current
    generation (hard links to its files); replacing most of the store copies what is kept."""
    store = open_store(tmp_path / "store")
    big, small = BASE + "graph/big", BASE + "graph/small"

    def quads(graph, count):
        return lambda out: out.writelines(f'<{BASE}x/{i}> <{HK}title> "t{i}" <{graph}> .\n' for i in range(count))

    store.publish_graphs(quads(big, 100_000), [big])
    first = store.current_generation()
    big_files = sst_inodes(first)
    store.publish_graphs(quads(small, 1_000), [small])
    assert store.current_generation() != first and big_files & sst_inodes(store.current_generation())
    assert (store.triple_count(big), store.triple_count(small)) == (100_000, 1_000)
    with_small = sst_inodes(store.current_generation())
    store.publish_graphs(quads(big, 50_000), [big])
    assert not with_small & sst_inodes(store.current_generation())
    assert (store.triple_count(big), store.triple_count(small)) == (50_000, 1_000)
    assert len(list((tmp_path / "store" / "generations").iterdir())) == 1
