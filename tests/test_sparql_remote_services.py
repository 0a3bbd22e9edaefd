"""SERVICE and the endpoints it may reach: a query or update that calls a remote endpoint is
refused (400) unless the operator allows that endpoint, whatever form the call takes, and the
endpoint, a real HTTP server on loopback, receives nothing; an allowed one is called, and its
failure is a 502 that names it without passing its answer on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from conftest import TATE_FIXTURE
from heritage_kg.config import Settings
from heritage_kg.graph.build import build_graph
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.store import open_store
from live_service import RemoteEndpoint

CURATOR_GRAPH = "https://w3id.org/heritage-kg/graph/curator"


@pytest.fixture(scope="module")
def remote():
    endpoint = RemoteEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store of its own: the update tests would write into it if a refusal failed."""
    built = open_store(tmp_path_factory.mktemp("service-store") / "store")
    build_graph(built, "tate", str(TATE_FIXTURE))
    built.close()
    return built


@pytest.fixture(scope="module")
def closed_service(store):
    """The service as deployed by default: no endpoint allowed."""
    settings = Settings(store=store.location, update_token="curator-token", sparql_workers=2)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def open_service(store, remote):
    """The service with the loopback endpoint, and only it, allowed."""
    settings = Settings(store=store.location, sparql_workers=2, sparql_service_allow=(remote.url,))
    with TestClient(create_app(settings)) as client:
        yield client


def calls(endpoint: str) -> list[str]:
    """Queries of every form that call `endpoint`, in every place a SERVICE can hide."""
    inner = "{ ?s ?p ?o }"
    folder, name = endpoint.rsplit("/", 1)
    return [
        f"SELECT * WHERE {{ SERVICE <{endpoint}> {inner} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{endpoint}> {inner} }}",
        f"select * where {{ ?a ?b ?c OPTIONAL {{ sErViCe <{endpoint}> {inner} }} }}",
        f"PREFIX remote: <{folder}/> SELECT * WHERE {{ SERVICE remote:{name} {inner} }}",
        f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{endpoint}> {inner} }} }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{endpoint}> {inner} }} }}",
        f"SELECT * WHERE {{ {{ ?a ?b ?c }} UNION {{ SERVICE <{endpoint}> {inner} }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c MINUS {{ SERVICE <{endpoint}> {inner} }} }}",
        f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ SERVICE <{endpoint}> {inner} }} }}",  # nested
        f"SELECT * WHERE {{ VALUES ?where {{ <{endpoint}> }} SERVICE ?where {inner} }}",  # chosen by a variable
        f"SELECT * WHERE {{ \\u0053ERVICE <{endpoint}> {inner} }}",  # a codepoint escape
        f"ASK {{ SERVICE <{endpoint}> {inner} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{endpoint}> {inner} }}",
        f"DESCRIBE ?s WHERE {{ SERVICE <{endpoint}> {inner} }}",
    ]


def test_every_form_of_service_is_refused_and_the_endpoint_hears_nothing(closed_service, remote):
    remote.requests.clear()
    for query in calls(remote.url):
        for answer in (closed_service.get("/sparql", params={"query": query}),
                       closed_service.post("/sparql", content=query.encode(),
                                           headers={"Content-Type": "application/sparql-query"})):
            assert answer.status_code == 400, (query, answer.text)
            assert "SERVICE is refused" in answer.json()["detail"], query
            assert "HERITAGE_KG_SPARQL_SERVICE_ALLOW" in answer.json()["detail"]
    assert remote.requests == []


def test_service_named_in_a_comment_or_a_string_is_no_call(closed_service, remote):
    remote.requests.clear()
    query = (f"# SERVICE <{remote.url}> {{ ?s ?p ?o }}\n"
             f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a <{HK}title> ?t FILTER(?t != \"SERVICE <{remote.url}> {{}}\") }}")
    answer = closed_service.get("/sparql", params={"query": query})
    assert answer.status_code == 200, answer.text
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 0
    assert remote.requests == []


def test_an_update_that_calls_an_endpoint_is_refused(closed_service, remote, store):
    remote.requests.clear()
    update = (f"INSERT {{ GRAPH <{CURATOR_GRAPH}> {{ ?s ?p ?o }} }} "
              f"WHERE {{ SERVICE <{remote.url}> {{ ?s ?p ?o }} }}")
    answer = closed_service.post("/sparql/update", content=update.encode(),
                                 headers={"Content-Type": "application/sparql-update",
                                          "Authorization": "Bearer curator-token"})
    assert answer.status_code == 400
    assert "SERVICE is refused" in answer.json()["detail"]
    assert remote.requests == []
    assert CURATOR_GRAPH not in store.named_graphs()


def test_an_allowed_endpoint_is_called(open_service, remote):
    remote.requests.clear()
    remote.failing = False
    answer = open_service.get("/sparql", params={"query": f"SELECT ?remote WHERE {{ SERVICE <{remote.url}> {{ }} }}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"]["bindings"] == RemoteEndpoint.SOLUTION["results"]["bindings"]
    assert len(remote.requests) == 1
    assert remote.requests[0].startswith("POST /sparql")


def test_only_the_allowed_endpoint_is_called(open_service, remote):
    remote.requests.clear()
    other = remote.url.replace("/sparql", "/other")
    for query in [*calls(other), f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ SERVICE <{other}> {{ }} }} }}",
                  f"SELECT * WHERE {{ VALUES ?where {{ <{remote.url}> }} SERVICE ?where {{ }} }}"]:
        answer = open_service.get("/sparql", params={"query": query})
        assert answer.status_code == 400, (query, answer.text)
    assert remote.requests == []


def test_a_failing_endpoint_is_a_502_that_does_not_echo_it(open_service, remote):
    remote.requests.clear()
    remote.failing = True
    try:
        answer = open_service.get("/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ }} }}"})
    finally:
        remote.failing = False
    assert answer.status_code == 502
    assert remote.url in answer.json()["detail"]
    assert RemoteEndpoint.SECRET not in answer.text and "hunter2" not in answer.text
    assert remote.requests  # it was called: the 502 is its failure, not a refusal
