"""`heritage-kg classify` and `heritage-kg predictions list|show|drop` as a user runs them: real
processes over a store of the fixtures, with a tiny model trained and registered in it. What they
print is checked against counts asked of the store by queries of the test's own."""

from __future__ import annotations

import re

import pytest
from conftest import store_of_fixtures
from test_cli import heritage_kg
from test_writeback import PREFIXES, train_and_register

from heritage_kg.config import get_settings
from heritage_kg.graph.store import open_store

BASE = get_settings().base_iri


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    root = tmp_path_factory.mktemp("classify-cli")
    store = store_of_fixtures(root / "store")
    train_and_register(store, root, "cli-model")
    store.close()
    env = {"HERITAGE_KG_MODELS_DIR": str(root / "models"), "HERITAGE_KG_FEATURES_DIR": str(root / "features")}
    return root, env


def run(cli, *args, check=True):
    root, env = cli
    return heritage_kg(*args, "--store", str(root / "store"), env=env, check=check)


def count(root, where: str) -> int:
    store = open_store(root / "store", read_only=True)
    _, rows = store.select(PREFIXES + f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ {where} }}")
    return int(rows[0]["n"])


def test_classify_writes_a_collection_in_one_run_and_the_runs_are_listed_shown_and_dropped(cli):
    root, _ = cli
    tate = f"?a a hk:Artwork ; hk:inCollection <{BASE}tate>"
    result = run(cli, "classify", "--collection", "tate", "--model", "cli-model")
    graph = re.search(r"into <([^>]+)>", result.stdout).group(1)
    assert graph.startswith(f"{BASE}graph/predictions/cli-model-")
    assert f"classified {count(root, tate)} artworks of tate" in result.stdout
    in_graph = f"GRAPH <{graph}> {{ ?p hk:predictionFor ?a }}"
    assert count(root, in_graph) == count(root, tate) > 0
    assert count(root, f"GRAPH <{graph}> {{ ?a hk:subject ?c }}") == 0

    # the unannotated artworks again: the new run takes them over from the first
    unannotated = f"{tate} FILTER NOT EXISTS {{ ?a hk:subject ?s }}"
    result = run(cli, "classify", "--collection", "tate", "--model", "cli-model", "--only-unannotated")
    second = re.search(r"into <([^>]+)>", result.stdout).group(1)
    assert 0 < count(root, unannotated) < count(root, tate)
    assert count(root, f"GRAPH <{second}> {{ ?p hk:predictionFor ?a }}") == count(root, unannotated)
    assert count(root, in_graph) == count(root, tate) - count(root, unannotated)
    assert f"older predictions for {count(root, unannotated)} artworks" in result.stdout

    listed = run(cli, "predictions", "list").stdout.splitlines()
    first_id, second_id = graph.rsplit("/", 1)[-1], second.rsplit("/", 1)[-1]
    assert [line.split()[0] for line in listed[1:]] == [second_id, first_id]
    shown = run(cli, "predictions", "show", first_id, "--limit", "0").stdout
    assert f"model {BASE}model/cli-model" in shown
    rows = [line for line in shown.splitlines() if line.startswith(f"{BASE}tate/artwork/")]
    assert len(rows) == count(root, f"GRAPH <{graph}> {{ ?a hk:rank ?rank }}")  # ?a: each prediction
    run(cli, "predictions", "drop", first_id)
    store = open_store(root / "store", read_only=True)
    assert graph not in store.named_graphs() and second in store.named_graphs()
    again = run(cli, "predictions", "drop", first_id, check=False)
    assert again.returncode == 2 and "'heritage-kg predictions list' shows the runs" in again.stderr


def test_an_unknown_model_is_refused_in_one_line(cli):
    root, _ = cli
    before = open_store(root / "store", read_only=True).named_graphs()
    result = run(cli, "classify", "--collection", "tate", "--model", "no-such-model", check=False)
    assert result.returncode == 2 and "no model 'no-such-model'" in result.stderr
    assert "Traceback" not in result.stderr
    assert open_store(root / "store", read_only=True).named_graphs() == before
