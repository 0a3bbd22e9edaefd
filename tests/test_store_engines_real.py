"""The real Tate and CMOA graphs on the three engines (the embedded store, an Oxigraph server and
the session's Virtuoso): the service (`heritage-kg serve`'s app) and `dataset build` give the
same answers on each. The servers are loaded with the embedded store's quads through their bulk
path (`load_quads`: chunked Graph Store posts), so that the three hold the same statements; the
builder's publish on each engine is tested on the fixtures (test_store_backends.py)."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.curator import example_queries
from conftest import virtuoso_store
from heritage_kg.config import Settings
from heritage_kg.graph.stats import collection_stats
from heritage_kg.graph.store import open_store
from heritage_kg.learning.datasets import DatasetSpec, build_dataset
from sparql_engines import oxigraph_server

pytestmark = pytest.mark.realdata

# The curators' example queries as their page writes them, example values in (the models and
# links graphs are not built here; the builds graph holds each build's own times).
CURATOR_QUERIES = {example["name"]: example["text"] for example in example_queries()
                   if not example["name"].startswith(("models_", "links_")) and example["name"] != "graph_builds"}


@pytest.fixture(scope="module")
def engines(real_store, virtuoso, tmp_path_factory):
    """Settings of the service for each engine, the three holding the real store's quads."""
    folder = tmp_path_factory.mktemp("engines")
    quads = folder / "real.nq"
    real_store.export_quads(quads)
    with oxigraph_server(folder / "oxigraph") as url, virtuoso_store(virtuoso) as on_virtuoso:
        on_oxigraph = open_store(url)
        on_oxigraph.load_quads(quads)
        on_virtuoso.load_quads(quads)
        quads.unlink()
        yield {
            "embedded": Settings(store=real_store.location, sparql_workers=1),
            "oxigraph-server": Settings(store=url, sparql_workers=1),
            "virtuoso": Settings(store=virtuoso.url, store_server="virtuoso", store_user=virtuoso.user,
                                 store_password=virtuoso.password, sparql_workers=1),
        }
        on_oxigraph.close()


def open_engine(settings: Settings):
    return open_store(settings.store, read_only=True, server=settings.store_server_endpoints())


def test_every_engine_counts_the_collections_of_the_records(engines, tate_zip_records):
    totals = {}
    for engine, settings in engines.items():
        with open_engine(settings) as store:
            totals[engine] = collection_stats(store)
    assert totals["oxigraph-server"] == totals["virtuoso"] == totals["embedded"]
    tate = next(c for c in totals["virtuoso"].collections if c.label == "Tate collection")
    assert tate.artworks == len(tate_zip_records)  # every artwork record of the archive


def normalized(answer: dict, text: str) -> list[tuple]:
    """A SPARQL JSON answer's rows, order aside, each GROUP_CONCAT's items sorted."""
    concatenated = set(re.findall(r"GROUP_CONCAT\(.*?\)\s*AS\s+\?(\w+)", text, flags=re.S))
    rows = []
    for binding in answer["results"]["bindings"]:
        row = []
        for name in answer["head"]["vars"]:
            term = binding.get(name)
            if term and name in concatenated:
                term = {**term, "value": " ".join(sorted(term["value"].split()))}
            row.append(json.dumps(term, sort_keys=True))
        rows.append(tuple(row))
    return sorted(rows)


def test_the_service_answers_every_curator_query_alike_on_every_engine(engines):
    answers: dict[str, dict[str, list]] = {}
    for engine, settings in engines.items():
        with TestClient(create_app(settings)) as client:
            for name, text in CURATOR_QUERIES.items():
                response = client.post("/sparql", data={"query": text},
                                       headers={"Accept": "application/sparql-results+json"})
                assert response.status_code == 200, (engine, name, response.text)
                answers.setdefault(name, {})[engine] = normalized(response.json(), text)
    for name, by_engine in answers.items():
        assert by_engine["embedded"], f"{name} finds nothing in the real graph"
        assert by_engine["oxigraph-server"] == by_engine["embedded"], name
        assert by_engine["virtuoso"] == by_engine["embedded"], name


def test_dataset_build_writes_the_same_rows_on_every_engine(engines, tmp_path):
    tables, manifests = {}, {}
    for engine, settings in engines.items():
        with open_engine(settings) as store:
            built = build_dataset(store, DatasetSpec(name=f"tate-{engine}"), datasets_dir=tmp_path)
        tables[engine] = sorted(pq.read_table(built.folder / "table.parquet").to_pylist(), key=lambda r: r["artwork"])
        manifests[engine] = (built.manifest.artworks, built.labels)
    assert len(tables["embedded"]) > 50_000  # the six default tasks cover most of Tate
    assert tables["oxigraph-server"] == tables["embedded"]
    assert tables["virtuoso"] == tables["embedded"]
    assert manifests["oxigraph-server"] == manifests["virtuoso"] == manifests["embedded"]
