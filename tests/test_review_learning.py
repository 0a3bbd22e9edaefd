"""The review loop: predictions a curator accepts reach the next training set, rejected ones never
become labels, and a model trained on the rebuilt set learns from them (`dataset build
--include-accepted`, then `train`)."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch
from classifier_data import write_text_features
from conftest import TATE_ZIP, require_real_data, store_of_fixtures
from prediction_runs import BASE, write_run
from typer.testing import CliRunner

from heritage_kg.cli import app
from heritage_kg.config import get_settings
from heritage_kg.inference.review import record_review
from heritage_kg.learning.datasets import DatasetSpec, build_dataset, open_dataset
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.runs import load_run
from heritage_kg.learning.training import train

ARTWORKS_IN_SLICE = 400  # real Tate artworks with subjects: enough for a split with a validation part
CMOA_OBJECTS = [BASE + f"cmoa/artwork/{n}" for n in ("99.4", "2001.45.3", "2013.29.1A-B")]
SPEC = dict(tasks=("people", "nature"), granularity="level2", min_examples=25)


@pytest.fixture(scope="module")
def tate_slice(tmp_path_factory):
    """The first 400 artworks with subjects of the real Tate archive, and every artist, as a
    collection folder of their own (a store of them builds in seconds), plus the CMOA fixture."""
    require_real_data(TATE_ZIP)
    folder = tmp_path_factory.mktemp("tate-slice")
    kept = 0
    with zipfile.ZipFile(TATE_ZIP) as archive:
        for name in sorted(archive.namelist()):
            if name.endswith("/") or not name.endswith(".json"):
                continue
            if "/artworks/" in name:
                if kept >= ARTWORKS_IN_SLICE or not (json.loads(archive.read(name)).get("subjects") or {}).get("children"):
                    continue
                kept += 1
            elif "/artists/" not in name:
                continue
            archive.extract(name, folder)
    store = store_of_fixtures(tmp_path_factory.mktemp("slice-store") / "store", tate=folder)
    yield store
    store.close()


@pytest.fixture(scope="module")
def reviewed(tate_slice, tmp_path_factory):
    """The slice after a curator's review of one model run: they accepted a predicted level-2
    label on each CMOA object and on a Tate artwork that lacks it, and rejected two predictions:
    one of a label a Tate artwork lacks, one of a label the collection itself gave an artwork."""
    plain = build_dataset(tate_slice, DatasetSpec(name="before", **SPEC),
                          datasets_dir=tmp_path_factory.mktemp("before"))
    labels = labels_of(plain)
    people = next(e.iri for e in plain.manifest.labels if e.task_label == "people" and e.level == 2)
    lacking = sorted(a for a, has in labels.items() if people not in has)
    having = sorted(a for a, has in labels.items() if people in has)
    decisions = {(CMOA_OBJECTS[0], people): "accepted", (CMOA_OBJECTS[1], people): "accepted",
                 (CMOA_OBJECTS[2], people): "accepted", (lacking[0], people): "accepted",
                 (lacking[1], people): "rejected", (having[0], people): "rejected"}
    run = write_run(tate_slice, "m1", [(a, c, 0.6) for a, c in decisions])
    for key, verdict in decisions.items():
        record_review(tate_slice, run[key], verdict, "ada", base_iri=BASE)
    return {"store": tate_slice, "plain": plain, "label": people, "decisions": decisions}


def labels_of(training_set) -> dict[str, set[str]]:
    return {row["artwork"]: set(row["labels"]) for row in training_set.table.to_pylist()}


def test_accepted_predictions_are_labels_only_when_asked(reviewed, tmp_path):
    store, plain, label = reviewed["store"], reviewed["plain"], reviewed["label"]
    accepted = [a for (a, _), v in reviewed["decisions"].items() if v == "accepted"]
    rejected = [a for (a, _), v in reviewed["decisions"].items() if v == "rejected"]
    again = build_dataset(store, DatasetSpec(name="plain", **SPEC), datasets_dir=tmp_path)
    assert labels_of(again) == labels_of(plain) and again.manifest.reviews is None  # reviews not asked for

    taught = build_dataset(store, DatasetSpec(name="taught", include_accepted=True, **SPEC), datasets_dir=tmp_path)
    labels = labels_of(taught)
    assert all(label in labels[a] for a in accepted)
    assert label not in labels[rejected[0]]  # a rejected prediction is no label
    assert label in labels[rejected[1]]  # and does not remove the collection's own annotation
    # every other artwork keeps exactly the labels it had
    assert {a: has for a, has in labels.items() if a not in accepted} == \
        {a: has for a, has in labels_of(plain).items() if a not in accepted}
    assert labels[accepted[3]] == labels_of(plain)[accepted[3]] | {label}
    counts = taught.manifest.reviews
    assert (counts.accepted, counts.accepted_added, counts.rejected, counts.rejected_excluded) == (4, 4, 2, 1)
    assert taught.manifest.parameters["include_accepted"] is True
    assert taught.manifest.version != plain.manifest.version
    assert all(row["title"] for row in taught.table.to_pylist() if row["artwork"] in CMOA_OBJECTS)


def test_accepted_predictions_reach_the_next_model(reviewed, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv("HERITAGE_KG_DATASETS_DIR", str(tmp_path / "datasets"))
    get_settings.cache_clear()
    try:
        built = CliRunner().invoke(app, ["dataset", "build", "--name", "loop", "--task", "people", "--task", "nature",
                                         "--min-examples", "25", "--include-accepted",
                                         "--store", reviewed["store"].location])
    finally:
        get_settings.cache_clear()
    assert built.exit_code == 0, built.output
    assert "4 accepted predictions (4 added a label), 2 rejected (1 kept out of the labels)" in built.output
    dataset = open_dataset(tmp_path / "datasets" / "loop")
    config = RunConfig.from_dict({
        "name": "after-review", "seed": 1,
        "data": {"dataset": str(dataset.folder),
                 "text": str(write_text_features(tmp_path / "text", dataset.table.to_pylist()))},
        "model": {"name": "fusion", "inputs": ["text"], "hidden": 8},
        "optimizer": {"name": "Adam", "lr": 0.01, "weight_decay": 0.0},
        "training": {"epochs": 2, "patience": 5, "batch_size": 32}})
    run = load_run(train(config, models_dir=tmp_path / "models").folder)
    # the model learnt from exactly this dataset, which holds the accepted predictions as labels
    assert run.space.dataset_version == dataset.manifest.version
    trained_on = labels_of(open_dataset(run.config.data.dataset))
    accepted = [a for (a, _), v in reviewed["decisions"].items() if v == "accepted"]
    assert all(reviewed["label"] in trained_on[a] for a in accepted)
    assert reviewed["label"] in run.space.labels
