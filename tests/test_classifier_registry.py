"""The model registry in the graph: a trained model is recorded in the models graph as PROV, and
SPARQL walks from it to its metrics, its training set, the store build and the query texts that
made its data; registering again replaces the record.

The fixture collections hold a handful of artworks, too few for a validation split, so the model
learns from synthetic rows (tests/classifier_data.py) whose manifest carries the lineage of a
dataset really built from a store of the fixtures: its store build and its query texts."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from classifier_data import synthetic_rows, write_training_set
from conftest import store_of_fixtures
from rdflib import URIRef

from heritage_kg.config import get_settings
from heritage_kg.graph.namespaces import Minter
from heritage_kg.graph.queries import load_query
from heritage_kg.learning.datasets import DatasetManifest, DatasetSpec, build_dataset, open_dataset
from heritage_kg.learning.registry import model_iri, models_graph, register_run
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.training import train

FIXTURE_TASKS = ("nature", "architecture", "people")


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A store of the fixtures, a dataset built from it, a tiny fusion model trained on it and
    registered; the store stays open for the tests."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("registry")
    store = store_of_fixtures(root / "store")
    built = build_dataset(store, DatasetSpec(name="registry-l2", tasks=FIXTURE_TASKS, min_examples=1),
                          datasets_dir=root / "built")
    folder = write_training_set(root / "datasets" / "registry-l2", synthetic_rows(120))
    lineage = {key: getattr(built.manifest, key) for key in ("version", "queries", "source")}
    replace(DatasetManifest.load(folder), **lineage).save(folder)
    dataset = open_dataset(folder)
    config = RunConfig.from_dict({
        "name": "tiny-fusion", "seed": 0, "data": {"dataset": str(dataset.folder)},
        "model": {"name": "fusion", "inputs": ["medium", "artist"], "hidden": 8},
        "optimizer": {"name": "Adam", "lr": 0.01, "weight_decay": 0.0},
        "training": {"epochs": 2, "patience": 2, "batch_size": 8}})
    run = train(config, models_dir=root / "models")
    model = register_run(store, run, base_iri=get_settings().base_iri)
    yield {"store": store, "run": run, "model": model, "dataset": dataset}
    store.close()


def _rows(store, name: str, **values):
    query = load_query(name)
    _, rows = store.select(query.text, query.bindings(values))
    return rows


def test_the_model_is_a_prov_entity_in_the_models_graph(registered):
    store, model = registered["store"], registered["model"]
    minter = Minter(get_settings().base_iri)
    assert model == model_iri(minter, "tiny-fusion")
    assert models_graph(minter) == f"{get_settings().base_iri}graph/models"
    assert store.ask(f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX hk: <https://w3id.org/heritage-kg/ontology#>
        ASK {{ GRAPH <{models_graph(minter)}> {{ <{model}> a hk:Model, prov:Entity ;
               prov:wasGeneratedBy [ a hk:TrainingRun ; prov:startedAtTime ?s ; prov:endedAtTime ?e ] }} }}""")


def test_the_registry_lists_the_model_with_its_test_scores(registered):
    run = registered["run"]
    (row,) = _rows(registered["store"], "models_registry")
    tuned = run.metrics["tuned"]["test"]
    assert str(row["name"]) == "tiny-fusion" and str(row["architecture"]) == "fusion"
    assert str(row["dataset"]) == "registry-l2"
    assert str(row["datasetVersion"]) == registered["dataset"].manifest.version
    assert float(row["microF1"]) == pytest.approx(tuned.micro_f1)
    assert float(row["macroF1"]) == pytest.approx(tuned.macro_f1)
    assert float(row["meanTaskF1"]) == pytest.approx(tuned.mean_task_f1)


def test_every_task_score_of_every_split_is_queryable(registered):
    run = registered["run"]
    rows = _rows(registered["store"], "model_scores", model=URIRef(registered["model"]))
    expected = {(split, policy, task): scores.f1 for policy, splits in run.metrics.items()
                for split, metrics in splits.items() for task, scores in metrics.tasks.items()}
    got = {(str(r["split"]), str(r["policy"]), str(r["task"])): float(r["f1"]) for r in rows}
    assert got.keys() == expected.keys()
    assert len(expected) == 2 * 3 * len(run.space.tasks)
    for key, f1 in expected.items():
        assert got[key] == pytest.approx(f1)


def test_the_lineage_reaches_the_build_and_the_query_texts(registered):
    store, run, manifest = registered["store"], registered["run"], registered["dataset"].manifest
    rows = _rows(store, "model_lineage", model=URIRef(registered["model"]))
    assert {str(r["queryName"]): str(r["queryText"]) for r in rows} == manifest.queries
    assert len(manifest.queries) >= 4
    assert {str(r["build"]) for r in rows} == {manifest.source["build"]}
    assert {str(r["checksum"]) for r in rows} == {manifest.source["checksum"]}
    assert {str(r["configDigest"]) for r in rows} == {"sha256:" + run.config.sha256}
    # and the build is the one the store's own build history names for this collection
    builds = [r for r in _rows(store, "graph_builds") if str(r["collection"]) == "tate"]
    assert str(builds[0]["build"]) == manifest.source["build"]


def test_registering_a_run_again_replaces_its_record(registered):
    store, run, model = registered["store"], registered["run"], registered["model"]
    graph = models_graph(Minter(get_settings().base_iri))
    before = store.triple_count(graph)
    # the same run, its training said to end later: the old end time must go, nothing else change
    later = replace(run, training={**run.training, "ended": "2030-01-01T00:00:00+00:00"})
    register_run(store, later, base_iri=get_settings().base_iri)
    assert store.triple_count(graph) == before
    assert len(_rows(store, "models_registry")) == 1
    _, ends = store.select(f"PREFIX prov: <http://www.w3.org/ns/prov#> "
                           f"SELECT ?end WHERE {{ <{model}> prov:wasGeneratedBy/prov:endedAtTime ?end }}")
    assert [str(row["end"]) for row in ends] == ["2030-01-01T00:00:00+00:00"]
    _, evaluations = store.select(f"PREFIX hk: <https://w3id.org/heritage-kg/ontology#> "
                                  f"SELECT ?e WHERE {{ <{model}> hk:evaluation ?e }}")
    assert len(evaluations) == 6


def test_models_list_with_a_store_reads_its_models_graph(registered, fixture_store):
    from typer.testing import CliRunner

    from heritage_kg.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--store", registered["store"].location])
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.output.splitlines()
    assert header.split() == ["name", "architecture", "dataset", "microF1", "macroF1", "meanTaskF1"]
    tuned = registered["run"].metrics["tuned"]["test"]
    assert [row.split() for row in rows] == [["tiny-fusion", "fusion", "registry-l2", f"{tuned.micro_f1:.3f}",
                                              f"{tuned.macro_f1:.3f}", f"{tuned.mean_task_f1:.3f}"]]
    # a store whose models graph is empty says so
    empty = runner.invoke(app, ["models", "list", "--store", fixture_store.location])
    assert empty.exit_code == 0 and "no model in the models graph" in empty.output, empty.output


def test_models_register_records_a_finished_run_folder(registered, monkeypatch):
    from typer.testing import CliRunner

    from heritage_kg.cli import app

    store, run = registered["store"], registered["run"]
    graph = models_graph(Minter(get_settings().base_iri))
    before = store.triple_count(graph)
    monkeypatch.setenv("HERITAGE_KG_MODELS_DIR", str(run.folder.parent))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["models", "register", "tiny-fusion", "--store", store.location])
        missing = CliRunner().invoke(app, ["models", "register", "nothing", "--store", store.location])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0 and f"registered {registered['model']}" in result.output, result.output
    assert missing.exit_code == 2 and "no run 'nothing'" in missing.output
    store.refresh()
    assert store.triple_count(graph) == before
    _, ends = store.select(f"PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?end "
                           f"WHERE {{ <{registered['model']}> prov:wasGeneratedBy/prov:endedAtTime ?end }}")
    assert [str(row["end"]) for row in ends] == [run.training["ended"]]  # the folder's record is back
