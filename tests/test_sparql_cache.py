"""The SPARQL service's result cache: a repeated query is answered from memory (its hits counted
at /status), the cache stays within its bytes, and neither an update nor a rebuild is ever
answered from entries filed before it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.result_cache import ResultCache
from conftest import CMOA_FIXTURE, TATE_FIXTURE
from heritage_kg.config import Settings
from heritage_kg.graph.build import build_graph
from heritage_kg.graph.namespaces import HK
from heritage_kg.graph.results import SerializedAnswer
from heritage_kg.graph.store import open_store

CURATOR_GRAPH = "https://w3id.org/heritage-kg/graph/curator"
NOTE = f'<https://w3id.org/heritage-kg/tate/artwork/N00530> <{HK}curatorNote> "seen again"'
COUNT_ARTWORKS = f"SELECT (COUNT(?a) AS ?n) WHERE {{ ?a a <{HK}Artwork> }}"


@pytest.fixture
def store(tmp_path):
    built = open_store(tmp_path / "store")
    build_graph(built, "tate", str(TATE_FIXTURE))
    return built


@pytest.fixture
def service(store):
    settings = Settings(store=store.location, update_token="curator-token", sparql_workers=2)
    with TestClient(create_app(settings)) as client:
        yield client


def cache_of(client) -> dict:
    return client.get("/status").json()["result_cache"]


def count(client) -> int:
    answer = client.get("/sparql", params={"query": COUNT_ARTWORKS})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def test_a_repeated_query_is_answered_from_the_cache(service, store):
    first = service.get("/sparql", params={"query": COUNT_ARTWORKS}, headers={"Accept": "text/csv"})
    before = cache_of(service)
    again = service.get("/sparql", params={"query": COUNT_ARTWORKS}, headers={"Accept": "text/csv"})
    after = cache_of(service)
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert after["hits"] == before["hits"] + 1
    assert after["entries"] >= 1 and after["bytes"] >= len(first.content)
    assert 0 < after["hit_ratio"] <= 1
    other_format = service.get("/sparql", params={"query": COUNT_ARTWORKS}, headers={"Accept": "text/tab-separated-values"})
    assert other_format.headers["content-type"].startswith("text/tab-separated-values")  # not the CSV entry
    assert service.get("/status").json()["data_version"] == store.data_version()


def test_an_update_is_never_answered_from_stale_entries(service, store):
    ask = f"ASK {{ GRAPH <{CURATOR_GRAPH}> {{ {NOTE} }} }}"
    assert service.get("/sparql", params={"query": ask}).json()["boolean"] is False
    assert service.get("/sparql", params={"query": ask}).json()["boolean"] is False  # now cached
    version = store.data_version()
    for update, expected in ((f"INSERT DATA {{ GRAPH <{CURATOR_GRAPH}> {{ {NOTE} }} }}", True),
                             (f"DELETE DATA {{ GRAPH <{CURATOR_GRAPH}> {{ {NOTE} }} }}", False)):
        written = service.post("/sparql/update", content=update.encode(),
                               headers={"Content-Type": "application/sparql-update",
                                        "Authorization": "Bearer curator-token"})
        assert written.status_code == 204
        assert store.data_version() != version
        version = store.data_version()
        assert service.get("/sparql", params={"query": ask}).json()["boolean"] is expected
        assert service.get("/sparql", params={"query": ask}).json()["boolean"] is expected


def test_a_rebuild_is_never_answered_from_stale_entries(service, store):
    tate_only = count(service)
    assert count(service) == tate_only  # cached
    version = store.data_version()
    build_graph(store, "cmoa", str(CMOA_FIXTURE))  # a new generation, published while the service runs
    assert store.data_version() != version
    _, rows = store.select(COUNT_ARTWORKS)
    assert count(service) == int(rows[0]["n"]) > tate_only


def test_the_update_sequence_counts_updates_from_any_writer(store):
    version = store.data_version()
    sequence = store.root / "update-seq"
    updates = int(sequence.read_text()) if sequence.exists() else 0
    other_process = open_store(store.location)  # a second writer, as `heritage-kg` commands are
    other_process.update(f"INSERT DATA {{ GRAPH <{CURATOR_GRAPH}> {{ {NOTE} }} }}")
    assert int(sequence.read_text()) == updates + 1
    assert store.data_version() != version


def test_the_cache_stays_within_its_bytes():
    cache = ResultCache(max_bytes=1_000)
    for n in range(10):
        cache.put(("query", n), SerializedAnswer(b"x" * 200, "text/csv"))
    status = cache.status()
    assert status["bytes"] <= 1_000 and status["entries"] == 5
    assert cache.get(("query", 0)) is None  # the oldest went first
    assert cache.get(("query", 9)).body == b"x" * 200
    cache.put(("huge", 0), SerializedAnswer(b"x" * 900, "text/csv"))  # over a quarter: never kept
    assert cache.get(("huge", 0)) is None
    assert cache.status()["hit_ratio"] == pytest.approx(1 / 3)


def test_a_cache_of_zero_bytes_keeps_nothing(store):
    settings = Settings(store=store.location, sparql_workers=2, sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as client:
        count(client)
        count(client)
        assert cache_of(client)["entries"] == 0 and cache_of(client)["hits"] == 0
