"""The same store tests against three engines: the embedded pyoxigraph store, and through
SparqlServerStore a real Oxigraph server (`oxigraph serve` on a free loopback port) and the test
session's private Virtuoso (conftest.virtuoso)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from rdflib import URIRef

from conftest import TATE_FIXTURE, store_of_fixtures, virtuoso_store
from heritage_kg.errors import QueryError, StoreError, UnsupportedQueryError
from heritage_kg.graph.build import build_graph
from heritage_kg.graph.namespaces import HK, Minter
from heritage_kg.graph.queries import all_queries, load_query
from heritage_kg.graph.stats import collection_stats
from heritage_kg.config import Settings
from heritage_kg.graph.store import SparqlServerStore, open_store, server_endpoints
from sparql_engines import free_port, isql, oxigraph_server, virtuoso_server  # noqa: F401  (free_port: live_service)

GRAPHS = Minter("https://w3id.org/heritage-kg/")
TATE_GRAPH, CMOA_GRAPH = GRAPHS.graph("tate"), GRAPHS.graph("cmoa")
N00530 = "https://w3id.org/heritage-kg/tate/artwork/N00530"
SKOS_BROADER = "http://www.w3.org/2004/02/skos/core#broader"


@pytest.fixture(scope="module", params=["embedded", "oxigraph-server", "virtuoso"])
def backend_store(request, tmp_path_factory):
    """The Tate and CMOA fixtures built into a fresh store of each engine."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "embedded":
        store = store_of_fixtures(folder / "store")
        yield store
        store.close()
    elif request.param == "oxigraph-server":
        with oxigraph_server(folder / "oxigraph") as url:
            store = store_of_fixtures(url)
            yield store
            store.close()
    else:
        with virtuoso_store(request.getfixturevalue("virtuoso")) as store:
            yield store_of_fixtures(store)


def test_both_collections_are_in_their_graphs(backend_store):
    assert {TATE_GRAPH, CMOA_GRAPH, GRAPHS.graph("vocabularies"), GRAPHS.graph("ontology"),
            GRAPHS.graph("builds")} <= set(backend_store.named_graphs())


def test_stats_count_the_fixture_records(backend_store):
    collections = {c.iri: c for c in collection_stats(backend_store).collections}
    tate, cmoa = collections["https://w3id.org/heritage-kg/tate"], collections["https://w3id.org/heritage-kg/cmoa"]
    # tests/fixtures: six readable Tate artworks by four artists under 14 subjects, and glacier, which
    # only the taxonomy files list: 15 concepts; three CMOA objects.
    assert (tate.artworks, tate.artists, tate.concepts) == (6, 4, 15)
    assert (cmoa.artworks, cmoa.artists) == (3, 2)


def test_select_binds_parameters_and_reads_the_union_of_graphs(backend_store):
    query = load_query("titles_containing")
    variables, rows = backend_store.select(query.text, query.bindings({"needle": "snow storm"}))
    assert variables == ["artwork", "title", "collection"]
    assert [(r["artwork"], str(r["title"])) for r in rows] == [
        (URIRef(N00530), "Snow Storm - Steam-Boat off a Harbour's Mouth")]


def test_ask_and_construct(backend_store):
    assert backend_store.ask("ASK { ?a a <%sArtwork> }" % HK)
    assert not backend_store.ask("ASK { ?a <%stitle> 'no such title' }" % HK)
    triples = backend_store.construct(f"CONSTRUCT {{ ?a <{HK}title> ?t }} WHERE {{ ?a <{HK}title> ?t }}")
    titles = {(s, str(o)) for s, _, o in triples}
    assert (URIRef(N00530), "Snow Storm - Steam-Boat off a Harbour's Mouth") in titles
    assert len(triples) == 9  # six Tate and three CMOA artworks, one title each


def test_a_bad_query_is_a_query_error(backend_store):
    with pytest.raises(QueryError, match="syntax error"):
        backend_store.select("SELECT * WHERE {")


def test_protocol_dataset_restricts_the_default_graph(backend_store):
    count = f"SELECT (COUNT(?a) AS ?n) WHERE {{ ?a a <{HK}Artwork> }}"
    answer = backend_store.answer_query(count, ["text/csv"], default_graphs=[CMOA_GRAPH])
    assert answer.body.decode().splitlines() == ["n", "3"]
    from_cmoa = f"SELECT (COUNT(?a) AS ?n) FROM <{CMOA_GRAPH}> WHERE {{ ?a a <{HK}Artwork> }}"
    assert backend_store.answer_query(from_cmoa, ["text/csv"]).body.decode().splitlines() == ["n", "3"]


def test_export_graph_writes_every_triple_of_the_graph(backend_store, tmp_path):
    out = tmp_path / "cmoa.nt"
    backend_store.export_graph(CMOA_GRAPH, out)
    lines = [line for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == backend_store.triple_count(CMOA_GRAPH) > 0


def test_an_unreachable_server_is_a_store_error():
    with pytest.raises(StoreError, match="cannot reach the SPARQL server"):
        open_store(f"http://127.0.0.1:{free_port()}").named_graphs()


def test_the_data_version_moves_with_an_update_where_the_backend_can_tell(backend_store):
    note = f'<urn:note:version> <{HK}curatorNote> "a note"'
    before = backend_store.data_version()
    backend_store.update(f"INSERT DATA {{ GRAPH <{GRAPHS.graph('curator')}> {{ {note} }} }}")
    try:
        after = backend_store.data_version()
        if isinstance(backend_store, SparqlServerStore):
            assert before is after is None  # a server cannot say; caches must not trust it
        else:
            assert None not in (before, after) and before != after
            assert backend_store.data_version() == after  # nothing changed since
    finally:
        backend_store.update(f"DELETE DATA {{ GRAPH <{GRAPHS.graph('curator')}> {{ {note} }} }}")


def test_the_store_package_imports_its_backends_only_when_opened():
    script = ("import sys, heritage_kg.graph.store as s\n"
              "print(sorted(m for m in sys.modules if m.startswith('heritage_kg.graph.store.')))\n"
              "print(type(s.open_store(sys.argv[1])).__name__)")
    out = subprocess.run([sys.executable, "-c", script, "http://127.0.0.1:9"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["['heritage_kg.graph.store.base', 'heritage_kg.graph.store.endpoints']", "SparqlServerStore"]


# --- the same answers on every engine: each named query a curator or a build runs, answered by
# this engine and by the embedded store holding the same fixtures

def answer_rows(store, query_text: str, bindings=None) -> list[tuple]:
    """The rows, order aside (ties of ORDER BY may fall either way), each GROUP_CONCAT's items
    sorted (SPARQL leaves their order to the engine)."""
    concatenated = set(re.findall(r"GROUP_CONCAT\(.*?\)\s*AS\s+\?(\w+)", query_text, flags=re.S))
    variables, rows = store.select(query_text, bindings)

    def cell(name, row):
        value = row.get(name)
        return " ".join(sorted(str(value).split())) if name in concatenated and value is not None else value

    return sorted((tuple(cell(v, row) for v in variables) for row in rows), key=repr)


# Named queries with their parameters bound to fixture terms: properties paths (`*` from a bound
# end, `+`), VALUES, GROUP_CONCAT, SAMPLE, FILTER EXISTS, aggregates and their datatypes, numeric
# division (service_artworks_per_decade), string functions.
TATE_NATURE = URIRef("https://w3id.org/heritage-kg/tate/subject/60")
NAMED_QUERIES = [
    *(name for name, query in all_queries().items() if query.example is not None
      # the models and links graphs are not built here; the builds graph holds each build's times
      and not name.startswith(("models_", "links_")) and name not in ("graph_builds", "service_artworks_under_subject")),
    ("service_artworks_under_subject",  # the example's "sea" is not in the fixtures
     {"scheme": URIRef("https://w3id.org/heritage-kg/tate/subjects"), "label": "nature"}),
    ("dataset_tasks", {"scheme": URIRef("https://w3id.org/heritage-kg/tate/subjects")}),
    ("dataset_categories", {"task": TATE_NATURE}),
    ("dataset_annotations", {"task": TATE_NATURE,
                             "reviews": URIRef("https://w3id.org/heritage-kg/graph/curator/reviews")}),
    ("dataset_artworks", {"collection": URIRef("https://w3id.org/heritage-kg/tate")}),
]


@pytest.mark.parametrize("named", NAMED_QUERIES, ids=lambda n: n if isinstance(n, str) else n[0])
def test_named_queries_answer_as_the_embedded_store_does(backend_store, fixture_store, named):
    name, values = (named, None) if isinstance(named, str) else named
    query = load_query(name)
    bindings = query.bindings(values if values is not None else query.example)
    expected = answer_rows(fixture_store, query.text, bindings)
    assert expected, f"{name} finds nothing in the fixtures: it would compare nothing"
    assert answer_rows(backend_store, query.text, bindings) == expected


def test_the_examples_scoped_to_a_taxonomy_or_graph_keep_their_answer_when_a_collection_joins(fixture_store, tmp_path):
    # a second museum's copy of the Tate fixture, every IRI its own (as each replica of
    # benchmarks/scale.py is): same labels, same types, its own graphs and taxonomy
    museum_b = "https://example.org/museum-b/"
    store = store_of_fixtures(tmp_path / "store")
    build_graph(store, "tate", str(TATE_FIXTURE), base_iri=museum_b)
    under_subject = load_query("service_artworks_under_subject")
    in_graph, in_union = load_query("service_graph_types_by_count"), load_query("service_types_by_count")

    def ask(target, query, **values):
        return answer_rows(target, query.text, query.bindings(values))

    tate_nature = {"scheme": URIRef("https://w3id.org/heritage-kg/tate/subjects"), "label": "nature"}
    alone = ask(fixture_store, under_subject, **tate_nature)
    assert len(alone) == 2  # tests/fixtures: D00001 and N00530 have subjects under nature
    assert ask(store, under_subject, **tate_nature) == alone
    theirs = ask(store, under_subject, scheme=URIRef(museum_b + "tate/subjects"), label="nature")
    assert [str(artwork).replace(museum_b, "https://w3id.org/heritage-kg/") for artwork, _ in theirs] == \
        [str(artwork) for artwork, _ in alone]

    tate_graph = {"graph": URIRef(TATE_GRAPH)}
    assert ask(store, in_graph, **tate_graph) == ask(fixture_store, in_graph, **tate_graph)
    artworks = {str(t): int(n) for t, n in ask(store, in_union)}[str(HK.Artwork)]
    assert artworks == 6 + 3 + 6  # the union counts every collection: Tate, CMOA and museum B's Tate
    store.close()


def test_a_path_an_engine_cannot_run_is_an_error_naming_it(backend_store, fixture_store):
    # a path with neither end bound: SPARQL 1.1 answers every pair; Virtuoso refuses transitive
    # paths without a start, and says so rather than answer something else
    query = f"SELECT ?narrow ?broad WHERE {{ ?narrow <{SKOS_BROADER}>+ ?broad }}"
    if getattr(backend_store, "engine", None) == "virtuoso":
        with pytest.raises(UnsupportedQueryError, match="Virtuoso cannot answer this query.*transitive"):
            backend_store.select(query)
    else:
        assert answer_rows(backend_store, query) == answer_rows(fixture_store, query)


def test_a_virtuoso_whose_system_graphs_join_the_union_is_refused(virtuoso):
    # Virtuoso's default graph is the union of every graph it lets the reader see: its system
    # graphs must be private (docker/virtuoso/setup.sql), else every answer holds their triples
    isql(virtuoso.sql_port, virtuoso.password, "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1, 1);")
    try:
        with virtuoso_store(virtuoso) as store, pytest.raises(StoreError, match="setup.sql"):
            store.ask("ASK { ?s ?p ?o }")
    finally:
        isql(virtuoso.sql_port, virtuoso.password, "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);")
    with virtuoso_store(virtuoso) as store:
        assert not store.ask("ASK { ?s ?p ?o }")  # empty, its own graphs out of sight


def test_settings_name_the_server_its_layout_and_credentials():
    virtuoso = Settings(store="http://db:8890", store_server="virtuoso", store_user="dba",
                        store_password="secret").store_server_endpoints()
    assert (virtuoso.query_url, virtuoso.update_url, virtuoso.graph_store_url) == (
        "http://db:8890/sparql", "http://db:8890/sparql-auth", "http://db:8890/sparql-graph-crud-auth")
    assert (virtuoso.union_default_graph, virtuoso.auth, virtuoso.user) == ("native", "digest", "dba")
    assert "secret" not in repr(virtuoso)
    other = Settings(store="http://db:3030/kg", store_query_url="http://db:3030/kg/sparql",
                     store_union_default_graph="native").store_server_endpoints()
    assert (other.query_url, other.update_url, other.union_default_graph) == (
        "http://db:3030/kg/sparql", "http://db:3030/kg/update", "native")
    assert Settings(store="data/store").store_server_endpoints() is None
    with pytest.raises(StoreError, match="no SPARQL server preset 'fuseki'"):
        Settings(store="http://db:3030", store_server="fuseki").store_server_endpoints()


def test_wrong_credentials_are_a_store_error_naming_the_setting(virtuoso):
    store = open_store(virtuoso.url, server=server_endpoints(virtuoso.url, "virtuoso", user=virtuoso.user,
                                                             password="not-the-password"))
    with pytest.raises(StoreError, match="refused the credentials.*HERITAGE_KG_STORE_PASSWORD"):
        store.update(f"INSERT DATA {{ GRAPH <{GRAPHS.graph('curator')}> {{ <urn:a> <urn:b> <urn:c> }} }}")
    assert not store.ask("ASK { <urn:a> ?p ?o }")

def test_an_answer_virtuoso_cuts_at_its_row_limit_is_an_error(tmp_path):
    # Virtuoso stops an answer at its ResultSetMaxRows without a word; the store says so instead
    with virtuoso_server(tmp_path / "virtuoso", buffers_mb=64, max_rows=5) as server, \
            virtuoso_store(server) as store:
        store.update("INSERT DATA { GRAPH <urn:g> { %s } }" % " ".join(f"<urn:s{i}> <urn:p> {i} ." for i in range(6)))
        assert len(store.select("SELECT ?s WHERE { ?s <urn:p> ?o } LIMIT 4")[1]) == 4
        with pytest.raises(StoreError, match=r"ResultSetMaxRows \(5 rows\)"):
            store.select("SELECT ?s WHERE { ?s <urn:p> ?o }")

# last: the rebuild adds a build record, which the comparisons above would see
def test_rebuilding_a_collection_replaces_its_graph_and_keeps_the_others(backend_store):
    before = {g: backend_store.triple_count(g) for g in (TATE_GRAPH, CMOA_GRAPH)}
    build_graph(backend_store, "tate", str(TATE_FIXTURE))
    assert backend_store.triple_count(TATE_GRAPH) == before[TATE_GRAPH]  # replaced, not doubled
    assert backend_store.triple_count(CMOA_GRAPH) == before[CMOA_GRAPH]
    assert not [g for g in backend_store.named_graphs() if g.startswith("urn:heritage-kg:staging")]
