"""The limits that keep the SPARQL service up, through a real uvicorn server on loopback: a
runaway query is stopped at the time limit (its worker process killed) while a concurrent cheap
query answers at once; results are cut at the maximum rows, saying so; big bodies get a 413."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from api.app import create_app
from heritage_kg.config import Settings
from live_service import serving

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"  # ~10^12 rows
CHEAP = "ASK { ?s ?p ?o }"
TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def service(fixture_store):
    """The service over the fixture store with small limits, served by uvicorn on a free port."""
    # no result cache: every query here must reach a worker
    settings = Settings(store=fixture_store.location, sparql_timeout_s=TIMEOUT_S, sparql_max_rows=5, sparql_cache_bytes=0,
                        max_request_bytes=2_000, sparql_workers=2)
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.get("/sparql", params={"query": CHEAP})  # the workers are up
        yield client


def query_workers() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.name == "heritage-kg-query-worker"}


def test_a_runaway_query_is_stopped_while_a_cheap_one_answers(service):
    workers_before = query_workers()
    with ThreadPoolExecutor(2) as pool:
        runaway = pool.submit(service.get, "/sparql", params={"query": RUNAWAY})
        time.sleep(0.3)  # the runaway holds a worker by now
        started = time.perf_counter()
        cheap = service.get("/sparql", params={"query": CHEAP})
        cheap_seconds = time.perf_counter() - started
        assert not runaway.done()
        stopped = runaway.result()
    assert cheap.status_code == 200 and cheap.json()["boolean"] is True
    assert cheap_seconds < 0.5
    assert stopped.status_code == 503
    assert f"stopped after {TIMEOUT_S:g} s" in stopped.json()["detail"]
    killed = workers_before - query_workers()
    assert len(killed) == 1  # the runaway's process is gone, not left burning a core
    assert len(query_workers()) == len(workers_before)  # and was replaced
    assert service.get("/sparql", params={"query": CHEAP}).status_code == 200


def test_results_are_cut_at_the_maximum_rows_and_say_so(service):
    cut = service.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o }"})
    assert len(cut.json()["results"]["bindings"]) == 5
    assert "cut at 5 rows" in cut.headers["x-sparql-truncated"]
    assert cut.json()["head"]["link"] == ["urn:heritage-kg:truncated:max-rows=5"]
    whole = service.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5"})
    assert len(whole.json()["results"]["bindings"]) == 5
    assert "x-sparql-truncated" not in whole.headers
    graph = service.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "ntriples"})
    assert len(graph.text.strip().splitlines()) == 5
    assert "x-sparql-truncated" in graph.headers


def test_a_request_over_the_maximum_size_is_413(service):
    padding = "#" + "x" * 3_000 + "\n"
    declared = service.post("/sparql", content=(padding + CHEAP).encode(),
                            headers={"Content-Type": "application/sparql-query"})
    assert declared.status_code == 413
    chunks = iter([padding.encode(), CHEAP.encode()])  # no Content-Length: cut while reading
    streamed = service.post("/sparql", content=chunks, headers={"Content-Type": "application/sparql-query"})
    assert streamed.status_code == 413
    assert "HERITAGE_KG_MAX_REQUEST_BYTES" in streamed.json()["detail"]
    assert service.post("/sparql", content=CHEAP.encode(),
                        headers={"Content-Type": "application/sparql-query"}).status_code == 200
