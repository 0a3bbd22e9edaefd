"""The SPARQL 1.1 Protocol at /sparql and /sparql/update, following the query-side cases of the
W3C SPARQL 1.1 Protocol test suite (names in the test names), against the fixture store."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from api.app import create_app
from conftest import TATE_FIXTURE
from heritage_kg.config import Settings
from heritage_kg.graph.build import build_graph
from heritage_kg.graph.namespaces import HK, Minter
from heritage_kg.graph.store import open_store

GRAPHS = Minter("https://w3id.org/heritage-kg/")
TATE_GRAPH, CMOA_GRAPH, CURATOR_GRAPH = GRAPHS.graph("tate"), GRAPHS.graph("cmoa"), GRAPHS.graph("curator")
COUNT_ARTWORKS = f"SELECT (COUNT(?a) AS ?n) WHERE {{ ?a a <{HK}Artwork> }}"
TITLES = f"CONSTRUCT {{ ?a <{HK}title> ?t }} WHERE {{ ?a <{HK}title> ?t }}"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.fixture(scope="module")
def client(fixture_store):
    with TestClient(create_app(Settings(store=fixture_store.location, sparql_workers=2))) as test_client:
        yield test_client


def artworks_in(store, graphs: list[str]) -> int:
    """The number of artworks in some graphs, asked of the store directly."""
    values = " ".join(f"<{g}>" for g in graphs)
    _, rows = store.select(f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                           f"GRAPH ?g {{ ?a a <{HK}Artwork> }} }}")
    return int(rows[0]["n"])


def count_of(response) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


# --- query operations

def test_query_get(client, fixture_store):
    assert count_of(client.get("/sparql", params={"query": COUNT_ARTWORKS})) == artworks_in(
        fixture_store, [TATE_GRAPH, CMOA_GRAPH])


def test_query_post_form(client, fixture_store):
    response = client.post("/sparql", data={"query": COUNT_ARTWORKS})
    assert count_of(response) == artworks_in(fixture_store, [TATE_GRAPH, CMOA_GRAPH])


def test_query_post_direct(client, fixture_store):
    response = client.post("/sparql", content=COUNT_ARTWORKS.encode(),
                           headers={"Content-Type": "application/sparql-query; charset=UTF-8"})
    assert count_of(response) == artworks_in(fixture_store, [TATE_GRAPH, CMOA_GRAPH])


def test_query_dataset_default_graphs_get(client, fixture_store):
    response = client.get("/sparql", params={"query": COUNT_ARTWORKS, "default-graph-uri": [CMOA_GRAPH]})
    assert count_of(response) == artworks_in(fixture_store, [CMOA_GRAPH])


def test_query_dataset_default_graphs_post(client, fixture_store):
    response = client.post("/sparql", data={"query": COUNT_ARTWORKS, "default-graph-uri": [TATE_GRAPH, CMOA_GRAPH]})
    assert count_of(response) == artworks_in(fixture_store, [TATE_GRAPH, CMOA_GRAPH])


def test_query_dataset_named_graphs(client):
    response = client.post("/sparql", data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                            "named-graph-uri": [TATE_GRAPH]})
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [TATE_GRAPH]


def test_query_dataset_in_the_query_is_honoured(client, fixture_store):
    query = COUNT_ARTWORKS.replace("WHERE", f"FROM <{CMOA_GRAPH}> WHERE")
    assert count_of(client.get("/sparql", params={"query": query})) == artworks_in(fixture_store, [CMOA_GRAPH])


def test_query_multiple_dataset_protocol_overrides_the_query(client, fixture_store):
    query = COUNT_ARTWORKS.replace("WHERE", f"FROM <{CMOA_GRAPH}> WHERE")
    response = client.get("/sparql", params={"query": query, "default-graph-uri": TATE_GRAPH})
    assert count_of(response) == artworks_in(fixture_store, [TATE_GRAPH])


# --- content types

@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_query_content_type_select(client, fixture_store, accept):
    response = client.get("/sparql", params={"query": COUNT_ARTWORKS}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept
    expected = str(artworks_in(fixture_store, [TATE_GRAPH, CMOA_GRAPH]))
    assert expected in response.text


def test_query_content_type_select_csv_rows(client, fixture_store):
    query = f"SELECT ?a ?t WHERE {{ ?a <{HK}title> ?t }} ORDER BY ?a"
    rows = list(csv.reader(io.StringIO(client.get("/sparql", params={"query": query, "format": "csv"}).text)))
    _, expected = fixture_store.select(query)
    assert rows[0] == ["a", "t"]
    assert rows[1:] == [[str(r["a"]), str(r["t"])] for r in expected]


def test_query_content_type_ask(client):
    response = client.get("/sparql", params={"query": f"ASK {{ ?a a <{HK}Artwork> }}"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.json()["boolean"] is True
    xml = client.get("/sparql", params={"query": "ASK { <urn:x> ?p ?o }"},
                     headers={"Accept": "application/sparql-results+xml"})
    assert "<boolean>false</boolean>" in xml.text


@pytest.mark.parametrize("accept,rdflib_format", [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                                  ("application/ld+json", "json-ld"),
                                                  ("application/rdf+xml", "xml")])
def test_query_content_type_construct(client, fixture_store, accept, rdflib_format):
    response = client.get("/sparql", params={"query": TITLES}, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == accept
    graph = Graph().parse(data=response.text, format=rdflib_format)
    assert len(graph) == len(fixture_store.construct(TITLES)) > 0


def test_query_content_type_describe(client):
    artwork = "https://w3id.org/heritage-kg/tate/artwork/N00530"
    response = client.get("/sparql", params={"query": f"DESCRIBE <{artwork}>"}, headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(artwork), RDF.type, URIRef(HK + "Artwork")) in graph


def test_accept_q_values_are_honoured(client):
    response = client.get("/sparql", params={"query": COUNT_ARTWORKS},
                          headers={"Accept": "application/sparql-results+json;q=0.5, text/csv;q=0.9, */*;q=0.1"})
    assert response.headers["content-type"].startswith("text/csv")


def test_format_parameter_wins_over_accept(client):
    response = client.get("/sparql", params={"query": COUNT_ARTWORKS, "format": "tsv"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    assert response.text.splitlines()[0] == "?n"


def test_no_acceptable_format_is_406(client):
    assert client.get("/sparql", params={"query": COUNT_ARTWORKS}, headers={"Accept": "image/png"}).status_code == 406
    refused = client.get("/sparql", params={"query": TITLES}, headers={"Accept": "text/csv"})
    assert refused.status_code == 406
    assert "text/turtle" in refused.json()["detail"]  # says what it could have sent


# --- bad requests

def test_bad_query_method(client):
    assert client.put("/sparql", params={"query": COUNT_ARTWORKS}).status_code == 405


def test_bad_multiple_queries(client):
    response = client.get("/sparql", params={"query": [COUNT_ARTWORKS, "ASK {}"]})
    assert response.status_code == 400


def test_bad_query_wrong_media_type(client):
    response = client.post("/sparql", content=COUNT_ARTWORKS.encode(), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_bad_query_missing_form_type(client):
    response = client.post("/sparql", content=f"query={COUNT_ARTWORKS}".encode(), headers={"Content-Type": ""})
    assert response.status_code == 415


def test_bad_query_non_utf8(client):
    latin1 = 'ASK { ?a <https://w3id.org/heritage-kg/ontology#title> "Café" }'.encode("latin-1")
    declared = client.post("/sparql", content=latin1,
                           headers={"Content-Type": "application/sparql-query; charset=ISO-8859-1"})
    assert declared.status_code == 415
    undeclared = client.post("/sparql", content=latin1, headers={"Content-Type": "application/sparql-query"})
    assert undeclared.status_code == 400
    assert "UTF-8" in undeclared.json()["detail"]


def test_bad_query_syntax_gives_the_parsers_message(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p "})
    assert response.status_code == 400
    assert "SPARQL syntax error: error at 1:" in response.json()["detail"]


def test_bad_update_sent_to_the_query_endpoint(client):
    response = client.post("/sparql", data={"update": f"DROP GRAPH <{TATE_GRAPH}>"})
    assert response.status_code == 400


def test_bad_update_get(client):
    assert client.get("/sparql/update", params={"update": "CLEAR ALL"}).status_code == 405


# --- service description

def test_service_description(client):
    response = client.get("/sparql")
    assert response.headers["content-type"].startswith("text/turtle")
    description = Graph().parse(data=response.text, format="turtle")
    service = next(description.subjects(RDF.type, SD.Service))
    assert description.value(service, SD.endpoint) == URIRef("http://testserver/sparql")
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in description
    assert (service, SD.feature, SD.UnionDefaultGraph) in description


# --- updates

CURATOR_TRIPLE = f'<https://w3id.org/heritage-kg/tate/artwork/N00530> <{HK}curatorNote> "seen in 2024"'
ASK_CURATOR_TRIPLE = f"ASK {{ {CURATOR_TRIPLE} }}"


@pytest.fixture(scope="module")
def writable_client(tmp_path_factory):
    """A service with updates on (token 'curator-token') over a store of its own."""
    store = open_store(tmp_path_factory.mktemp("update-store") / "store")
    build_graph(store, "tate", str(TATE_FIXTURE))
    store.close()
    settings = Settings(store=store.location, update_token="curator-token", sparql_workers=2)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def update(client, text: str, token: str | None = "curator-token"):
    headers = {"Content-Type": "application/sparql-update"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/sparql/update", content=text.encode(), headers=headers)


def asks(client, query: str) -> bool:
    return client.get("/sparql", params={"query": query}).json()["boolean"]


def test_updates_are_off_without_a_token(client):
    response = update(client, f"INSERT DATA {{ GRAPH <{CURATOR_GRAPH}> {{ {CURATOR_TRIPLE} }} }}")
    assert response.status_code == 403
    assert "HERITAGE_KG_UPDATE_TOKEN" in response.json()["detail"]
    assert not asks(client, ASK_CURATOR_TRIPLE)


def test_an_update_without_the_token_changes_nothing(writable_client):
    insert = f"INSERT DATA {{ GRAPH <{CURATOR_GRAPH}/missing-token> {{ {CURATOR_TRIPLE} }} }}"
    missing = update(writable_client, insert, token=None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert update(writable_client, insert, token="guess").status_code == 403
    assert not asks(writable_client, f"ASK {{ GRAPH <{CURATOR_GRAPH}/missing-token> {{ ?s ?p ?o }} }}")


@pytest.mark.parametrize("refused", [
    f"INSERT DATA {{ GRAPH <{TATE_GRAPH}> {{ {CURATOR_TRIPLE} }} }}",
    f"DELETE WHERE {{ GRAPH <{TATE_GRAPH}> {{ ?a <{HK}title> ?t }} }}",
    f"INSERT DATA {{ {CURATOR_TRIPLE} }}",
    "DROP ALL",
    f"INSERT {{ GRAPH ?g {{ {CURATOR_TRIPLE} }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    f"COPY <{CURATOR_GRAPH}> TO <{GRAPHS.graph('ontology')}>",
])
def test_builder_graphs_are_read_only_to_updates(writable_client, refused):
    titles = f"ASK {{ GRAPH <{TATE_GRAPH}> {{ ?a <{HK}title> ?t }} }}"
    response = update(writable_client, refused)
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert asks(writable_client, titles)
    assert not asks(writable_client, ASK_CURATOR_TRIPLE)


def test_curators_write_into_the_curator_graph(writable_client):
    response = update(writable_client, f"INSERT DATA {{ GRAPH <{CURATOR_GRAPH}> {{ {CURATOR_TRIPLE} }} }}")
    assert response.status_code == 204
    assert asks(writable_client, f"ASK {{ GRAPH <{CURATOR_GRAPH}> {{ {CURATOR_TRIPLE} }} }}")
    assert update(writable_client, f"CLEAR GRAPH <{CURATOR_GRAPH}>").status_code == 204
    assert not asks(writable_client, ASK_CURATOR_TRIPLE)


def test_a_malformed_update_is_400(writable_client):
    response = update(writable_client, f"INSERT DATA {{ GRAPH <{CURATOR_GRAPH}> {{ <urn:a> }} }}")
    assert response.status_code == 400
    assert "syntax error" in response.json()["detail"]


def test_the_json_results_are_valid_sparql_json(client):
    body = json.loads(client.get("/sparql", params={"query": "SELECT ?x WHERE { VALUES ?x { 1 } }"}).text)
    assert body == {"head": {"vars": ["x"]}, "results": {"bindings": [
        {"x": {"type": "literal", "value": "1", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]}}
