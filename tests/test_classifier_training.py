"""`train(config)`: the visual and fusion classifiers learn, write a run folder that loads back
without running code, resume after an interruption exactly, and refuse bad inputs clearly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from classifier_data import (
    BAR,
    BASE,
    BLUE,
    COLOUR,
    FORM,
    PAINTING,
    RED,
    synthetic_rows,
    write_image_features,
    write_images,
    write_kg_features,
    write_text_features,
    write_training_set,
)
from safetensors.torch import load_file

from heritage_kg.errors import ConfigError, TrainingError
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.runs import list_runs, load_run
from heritage_kg.learning.training import train


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 300-artwork synthetic dataset with its images and text, KG and image feature tables."""
    root = tmp_path_factory.mktemp("synthetic")
    rows = synthetic_rows(300)
    return {"root": root, "rows": rows,
            "dataset": write_training_set(root / "datasets" / "synthetic", rows),
            "images": write_images(root / "images", rows),
            "text": write_text_features(root / "text", rows),
            "kg": write_kg_features(root / "kg", rows, dataset="synthetic"),
            "image_features": write_image_features(root / "image-features", rows)}


class Interrupted(Exception):
    pass


def _interrupt(epoch, record):
    raise Interrupted


def fusion_config(synthetic, name: str, **sections) -> RunConfig:
    data = {"dataset": str(synthetic["dataset"]), "text": str(synthetic["text"]), "kg": str(synthetic["kg"]),
            **sections.pop("data", {})}
    return RunConfig.from_dict({
        "name": name, "seed": 3, "data": data,
        "model": {"name": "fusion", "inputs": ["text", "kg", "medium", "artist"], "hidden": 32,
                  **sections.pop("model", {})},
        "optimizer": {"name": "Adam", "lr": 0.01, "weight_decay": 0.0, **sections.pop("optimizer", {})},
        "training": {"epochs": 6, "patience": 10, "batch_size": 32, **sections.pop("training", {})},
        **sections})


def test_the_visual_path_learns_labels_from_pixels(synthetic, tmp_path):
    config = RunConfig.from_dict({
        "name": "visual", "seed": 0,
        "data": {"dataset": str(synthetic["dataset"]), "image_folder": str(synthetic["images"]), "image_size": 32,
                 "text": str(synthetic["text"])},
        "model": {"name": "contextnet", "trunk": "trained", "backbone": "tiny", "weights": "none", "context": ["text"]},
        "optimizer": {"name": "Adam", "lr": 0.01, "weight_decay": 0.0},
        "training": {"epochs": 5, "patience": 5, "batch_size": 32}})
    run = train(config, models_dir=tmp_path)

    test = run.metrics["tuned"]["test"]
    # Chance for a label with prevalence p is an F1 of about p (saying yes at random at rate p),
    # 0.35-0.45 here; the pixels carry every label.
    assert test.micro_f1 > 0.8, test
    assert all(test.labels[iri].f1 > 0.7 for iri in (RED, BLUE, BAR)), test.labels
    assert run.training["epochs_run"] == 5
    # The history shows learning: the validation loss fell.
    history = run.training["history"]
    assert history[run.training["best_epoch"] - 1]["validation_loss"] < history[0]["validation_loss"]


def test_a_run_folder_holds_config_weights_labels_metrics_and_card(synthetic, tmp_path):
    run = train(fusion_config(synthetic, "fusion"), models_dir=tmp_path)
    folder = tmp_path / "fusion"
    assert {p.name for p in folder.iterdir()} == {"config.toml", "weights.safetensors", "model.json", "labels.json",
                                                 "metrics.json", "README.md"}  # the checkpoint is gone once done
    labels = json.loads((folder / "labels.json").read_text())
    assert [entry["iri"] for entry in labels["labels"]] == [RED, BLUE, BAR]
    assert [entry["threshold"] for entry in labels["labels"]] == pytest.approx(run.thresholds.tolist())
    metrics = json.loads((folder / "metrics.json").read_text())
    for policy in ("threshold_0.5", "tuned"):
        assert set(metrics[policy]) == {"train", "validation", "test"}
        test = metrics[policy]["test"]
        assert set(test["tasks"]) == {COLOUR, FORM}
        assert set(test["labels"]["" + RED]) >= {"accuracy", "precision", "recall", "f1"}
    assert metrics["tuned"]["test"]["micro_f1"] > 0.8  # the text vectors carry the labels
    assert "| colour |" in (folder / "README.md").read_text()

    loaded = load_run(folder)
    assert loaded.config == run.config
    weights = load_file(folder / "weights.safetensors")
    assert all(torch.equal(weights[name], tensor) for name, tensor in loaded.model.state_dict().items())
    assert [r.name for r in list_runs(tmp_path)] == ["fusion"]
    with pytest.raises(TrainingError, match="a finished run is already in"):  # never overwritten
        train(fusion_config(synthetic, "fusion"), models_dir=tmp_path)
    with pytest.raises(Interrupted):
        train(fusion_config(synthetic, "half", training={"epochs": 3}), models_dir=tmp_path, on_epoch_end=_interrupt)
    with pytest.raises(TrainingError, match="unfinished run of another config"):  # nor resumed by another
        train(fusion_config(synthetic, "half", training={"epochs": 4}), models_dir=tmp_path)


def test_an_interrupted_run_resumes_to_the_same_end(synthetic, tmp_path):
    config = fusion_config(synthetic, "resumed", training={"epochs": 5})
    straight = train(config, models_dir=tmp_path / "straight")

    def stop_after_two(epoch, record):
        if epoch == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        train(config, models_dir=tmp_path / "resumed", on_epoch_end=stop_after_two)
    assert (tmp_path / "resumed" / "resumed" / "checkpoint.safetensors").is_file()
    epochs_after_resume = []
    resumed = train(config, models_dir=tmp_path / "resumed",
                    on_epoch_end=lambda epoch, record: epochs_after_resume.append(epoch))

    assert epochs_after_resume == [3, 4, 5]
    assert resumed.training["history"] == [{**r, "seconds": pytest.approx(r["seconds"], abs=60)}
                                           for r in straight.training["history"]]
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    assert resumed.metrics["tuned"]["test"] == straight.metrics["tuned"]["test"]


def test_the_same_seed_gives_the_same_run_and_another_seed_another(synthetic, tmp_path):
    first = train(fusion_config(synthetic, "a", training={"epochs": 2}), models_dir=tmp_path)
    again = train(fusion_config(synthetic, "b", training={"epochs": 2}), models_dir=tmp_path)
    other = train(fusion_config(synthetic, "c", seed=4, training={"epochs": 2}), models_dir=tmp_path)
    state = first.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in again.model.state_dict().items())
    assert not all(torch.equal(state[k], v) for k, v in other.model.state_dict().items())


def test_early_stopping_keeps_the_best_epoch(synthetic, tmp_path):
    # A learning rate this high overshoots: validation loss stops improving within a few epochs.
    run = train(fusion_config(synthetic, "early", optimizer={"lr": 0.5}, training={"epochs": 20, "patience": 2}),
                models_dir=tmp_path)
    history = run.training["history"]
    assert run.training["stopped_early"] and len(history) < 20
    best = min(history, key=lambda r: r["validation_loss"])
    assert run.training["best_epoch"] == best["epoch"] == len(history) - 2


def test_the_frozen_trunk_trains_over_precomputed_image_vectors(synthetic, tmp_path):
    config = RunConfig.from_dict({
        "name": "frozen", "data": {"dataset": str(synthetic["dataset"]), "images": str(synthetic["image_features"]),
                                   "kg": str(synthetic["kg"]), "text": str(synthetic["text"])},
        "model": {"name": "contextnet", "trunk": "frozen", "context": ["text", "kg"]},
        "optimizer": {"name": "SGD", "lr": 0.05},
        "training": {"epochs": 3, "batch_size": 64}})
    run = train(config, models_dir=tmp_path)
    assert run.model_arguments["backbone"] == "precomputed" and run.model_arguments["context_dims"] == [16, 8]
    assert run.model.encoder.out_features == 24
    assert run.metrics["tuned"]["test"].micro_f1 > 0.6


# --- refusals


def test_kg_vectors_trained_for_another_dataset_are_refused(synthetic, tmp_path):
    other = write_kg_features(tmp_path / "kg-level1", synthetic["rows"], dataset="synthetic-level1")
    with pytest.raises(TrainingError, match="trained for dataset 'synthetic-level1', not 'synthetic'.*leak"):
        train(fusion_config(synthetic, "leaky", data={"kg": str(other)}), models_dir=tmp_path)
    assert not (tmp_path / "leaky").exists()


def test_a_medium_subset_may_use_the_kg_vectors_of_the_dataset_whose_split_it_shares(synthetic, tmp_path):
    from dataclasses import replace

    from heritage_kg.learning.datasets import DatasetManifest

    rows = [r for r in synthetic["rows"] if PAINTING in r["medium_groups"]]
    subset = write_training_set(tmp_path / "synthetic-painting", rows)
    replace(DatasetManifest.load(subset), split_of="synthetic").save(subset)
    parent_vectors = {"dataset": str(subset), "kg": str(synthetic["kg"])}  # trained for "synthetic"
    run = train(fusion_config(synthetic, "subset", data=parent_vectors, training={"epochs": 1}),
                models_dir=tmp_path / "models")
    assert run.metrics["tuned"]["test"].micro_f1 > 0
    other = write_kg_features(tmp_path / "kg-level1", synthetic["rows"], dataset="synthetic-level1")
    with pytest.raises(TrainingError, match="trained for dataset 'synthetic-level1', not 'synthetic-painting'"):
        train(fusion_config(synthetic, "subset-leaky", data={"dataset": str(subset), "kg": str(other)}),
              models_dir=tmp_path / "models")


def test_fusion_reads_artist_vectors_not_the_artworks_own(synthetic, tmp_path):
    from heritage_kg.learning.datasets import open_dataset
    from heritage_kg.learning.features.store import FeatureTable
    from heritage_kg.learning.inputs import assemble_inputs

    rows = synthetic["rows"]
    # Artwork vectors that spell out the labels: a model reading them would be cheating.
    leaky = np.array([[float(iri in r["labels"]) for iri in (RED, BLUE, BAR)] * 4 for r in rows])
    folder = write_kg_features(tmp_path / "kg", rows, dataset="synthetic", dim=12, artwork_vectors=leaky)
    table = FeatureTable.load(folder)
    assembled = assemble_inputs(open_dataset(synthetic["dataset"]), ["kg"], [], features={"kg": table})
    test = assembled.splits["test"]
    by_artwork = {r["artwork"]: r for r in rows}
    for i, iri in enumerate(test.artworks):
        expected = table.get(by_artwork[iri]["artists"][0])
        assert np.array_equal(test.tensors["kg"][i].numpy(), expected)
        assert not np.array_equal(test.tensors["kg"][i].numpy(), table.get(iri))


def test_the_word_vocabulary_is_learnt_from_training_titles_only(synthetic, tmp_path):
    from heritage_kg.learning.datasets import open_dataset
    from heritage_kg.learning.inputs import MIN_WORD_COUNT, assemble_inputs, title_terms

    rows = [dict(r, title=f"{r['title']} {r['split']}word") for r in synthetic["rows"]]
    folder = write_training_set(tmp_path / "worded", rows)
    assembled = assemble_inputs(open_dataset(folder), ["words"], [], features={})
    train_counts: dict[str, int] = {}
    for r in rows:
        if r["split"] == "train":
            for word in set(title_terms(r["title"])):
                train_counts[word] = train_counts.get(word, 0) + 1
    expected = sorted(w for w, n in train_counts.items() if n >= MIN_WORD_COUNT)
    assert assembled.vocabularies.words == expected
    assert "trainword" in expected and "testword" not in expected and "validationword" not in expected
    assert "number 5" not in expected and any(" " in term for term in expected)  # word pairs, seen twice
    # A test title's words map to the training ids; a word seen only in held-out titles is unknown.
    test = assembled.splits["test"]
    ids = {w: j + 1 for j, w in enumerate(expected)}
    first = next(r for r in rows if r["artwork"] == test.artworks[0])
    known = [ids[w] for w in title_terms(first["title"]) if w in ids]
    assert test.tensors["words"][0].tolist()[:len(known)] == known and known
    assert not test.tensors["words"][0][len(known):].any()


def with_groups_and_years(rows: list[dict]) -> list[dict]:
    """The synthetic rows placed in catalogue groups that carry `bar` (five sketchbooks of bars, five
    without) and dated to decades that carry `red` (1800s-1840s red, 1900s-1940s not); one test
    row's sketchbook and one's decade appear in no training row."""
    out = []
    for i, row in enumerate(rows):
        group = f"{BASE}group/{'bars' if BAR in row['labels'] else 'plain'}-{i % 5}"
        year = (1800 if RED in row["labels"] else 1900) + 10 * (i % 5) + i % 7
        out.append(dict(row, catalogue_groups=[group], year=year))
    held_out = [i for i, row in enumerate(out) if row["split"] == "test"][:2]
    out[held_out[0]]["catalogue_groups"] = [f"{BASE}group/only-in-test"]
    out[held_out[1]]["year"] = 2023
    return out


def test_catalogue_groups_and_periods_teach_what_the_titles_do_not(synthetic, tmp_path):
    from heritage_kg.learning.datasets import open_dataset
    from heritage_kg.learning.inputs import assemble_inputs, period_of

    rows = with_groups_and_years(synthetic["rows"])
    folder = write_training_set(tmp_path / "grouped", rows)
    assembled = assemble_inputs(open_dataset(folder), ["group", "period"], [], features={})
    train_rows = [r for r in rows if r["split"] == "train"]
    assert assembled.vocabularies.catalogue_groups == sorted({r["catalogue_groups"][0] for r in train_rows})
    assert assembled.vocabularies.periods == sorted({period_of(r["year"]) for r in train_rows})
    test = assembled.splits["test"]
    by_artwork = {r["artwork"]: r for r in rows}
    unknown_group = test.artworks.index(next(r["artwork"] for r in rows if r["catalogue_groups"][0].endswith("only-in-test")))
    unknown_period = test.artworks.index(next(r["artwork"] for r in rows if r["year"] == 2023))
    assert int(test.tensors["group"][unknown_group]) == 0 and not test.tensors["group_mask"][unknown_group]
    assert int(test.tensors["period"][unknown_period]) == 0 and not test.tensors["period_mask"][unknown_period]
    known = [i for i in range(len(test)) if i not in (unknown_group, unknown_period)]
    assert all(assembled.vocabularies.catalogue_groups[int(test.tensors["group"][i]) - 1]
               == by_artwork[test.artworks[i]]["catalogue_groups"][0] for i in known)
    assert all(assembled.vocabularies.periods[int(test.tensors["period"][i]) - 1]
               == period_of(by_artwork[test.artworks[i]]["year"]) for i in known)

    # The titles ("artwork number N") say nothing; the sketchbook says bar, the decade says red.
    run = train(fusion_config(synthetic, "grouped", data={"dataset": str(folder)},
                              model={"inputs": ["group", "period", "words"], "wide": True}), models_dir=tmp_path)
    scores = run.metrics["tuned"]["test"].labels
    assert scores[BAR].f1 > 0.9 and scores[RED].f1 > 0.9, scores
    assert run.model.arguments["groups"] == 10 and run.model.arguments["periods"] == 10
    # the vocabularies go with the model, so a prediction encodes alike
    assert load_run(run.folder).vocabularies.catalogue_groups == assembled.vocabularies.catalogue_groups


def test_a_dataset_built_before_groups_and_periods_says_to_rebuild(synthetic, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from heritage_kg.learning.datasets import table_schema

    folder = write_training_set(tmp_path / "older", synthetic["rows"])
    older = pa.schema([f for f in table_schema() if f.name not in ("year", "catalogue_groups")])
    pq.write_table(pa.Table.from_pylist(synthetic["rows"], schema=older), folder / "table.parquet")
    with pytest.raises(TrainingError, match="dataset older has no year column, which the period input reads.*rebuild it with 'heritage-kg dataset build'"):
        train(fusion_config(synthetic, "older", data={"dataset": str(folder)}, model={"inputs": ["words", "period"]}),
              models_dir=tmp_path)
    # a model that reads neither trains on it as before
    assert train(fusion_config(synthetic, "older-ok", data={"dataset": str(folder)}, model={"inputs": ["words"]},
                               training={"epochs": 1}), models_dir=tmp_path).metrics


def test_a_missing_feature_table_is_a_clear_error(synthetic, tmp_path):
    with pytest.raises(TrainingError, match=r"no text feature table in .*nowhere.*heritage-kg embed text --dataset synthetic"):
        train(fusion_config(synthetic, "x", data={"text": str(tmp_path / "nowhere")}), models_dir=tmp_path)
    config = fusion_config(synthetic, "y")
    config.data.kg = None
    with pytest.raises(TrainingError, match="names no data.kg folder"):
        train(config, models_dir=tmp_path)


def test_an_empty_dataset_is_a_clear_error(synthetic, tmp_path):
    empty = write_training_set(tmp_path / "empty", [])
    with pytest.raises(TrainingError, match="dataset empty has no artwork"):
        train(fusion_config(synthetic, "x", data={"dataset": str(empty)}), models_dir=tmp_path)
    train_only = write_training_set(tmp_path / "train-only", [r for r in synthetic["rows"] if r["split"] == "train"],
                                    name="synthetic")
    with pytest.raises(TrainingError, match="validation split of dataset synthetic has no artwork"):
        train(fusion_config(synthetic, "x", data={"dataset": str(train_only)}), models_dir=tmp_path)


@pytest.mark.parametrize(("change", "message"), [
    ({"trainig": {}}, "unknown key 'trainig'"),
    ({"training": {"epochs": "ten"}}, "training.epochs must be an integer, not 'ten'"),
    ({"training": {"epochs": 0}}, "training.epochs must be at least 1"),
    ({"model": {"inputs": ["text", "smell"]}}, "no input 'smell'"),
    ({"model": {"trunk": "half"}}, "model.trunk must be one of 'frozen', 'trained'"),
    ({"optimizer": {"lr": True}}, "optimizer.lr must be a number"),
])
def test_a_bad_config_is_a_clear_error(change, message):
    document = {"name": "x", "data": {"dataset": "d"}}
    for section, values in change.items():
        document[section] = values
    with pytest.raises(ConfigError, match=message):
        RunConfig.from_dict(document)


def test_unknown_components_by_name_are_clear_errors(synthetic, tmp_path):
    with pytest.raises(ConfigError, match="no optimizer called 'sgdd'.*sgd"):
        train(fusion_config(synthetic, "x", optimizer={"name": "sgdd"}), models_dir=tmp_path)
    with pytest.raises(ConfigError, match="no classifier called 'transformer'"):
        train(fusion_config(synthetic, "x", model={"name": "transformer"}), models_dir=tmp_path)
    with pytest.raises(ConfigError, match="no task 'sound'"):
        train(fusion_config(synthetic, "x", loss={"task_weights": {"sound": 1.0}}), models_dir=tmp_path)


# --- the command line


def test_train_and_models_commands(synthetic, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from heritage_kg.cli import app
    from heritage_kg.config import get_settings

    monkeypatch.setenv("HERITAGE_KG_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    try:
        config = tmp_path / "run.toml"
        fusion_config(synthetic, "cli-run", training={"epochs": 2}).save(config)
        runner = CliRunner()
        store = str(tmp_path / "store")
        result = runner.invoke(app, ["train", "--config", str(config), "--store", store])
        assert result.exit_code == 0, result.output
        assert "cli-run: 2 epochs" in result.output and "micro-F1" in result.output
        assert "registered https://w3id.org/heritage-kg/model/cli-run" in result.output
        in_graph = runner.invoke(app, ["models", "list", "--store", store])
        assert in_graph.exit_code == 0, in_graph.output
        assert [line.split()[:3] for line in in_graph.output.splitlines()[1:]] == [["cli-run", "fusion", "synthetic"]]
        scores = runner.invoke(app, ["models", "show", "cli-run", "--store", store])
        assert scores.exit_code == 0 and "https://example.org/subject/colour" in scores.output, scores.output
        unknown = runner.invoke(app, ["models", "show", "nothing", "--store", store])
        assert unknown.exit_code == 2 and "no model 'nothing' in the models graph" in unknown.output
        listed = runner.invoke(app, ["models", "list"])
        assert listed.exit_code == 0 and "cli-run" in listed.output and "fusion" in listed.output
        shown = runner.invoke(app, ["models", "show", "cli-run"])
        assert shown.exit_code == 0 and "# cli-run" in shown.output and "| colour |" in shown.output

        bad = tmp_path / "bad.toml"
        bad.write_text(config.read_text().replace("[training]", "[training]\nepoch = 3"))
        refused = runner.invoke(app, ["train", "--config", str(bad)])
        assert refused.exit_code == 2 and "unknown key 'training.epoch'" in refused.output
        assert "Traceback" not in refused.output
        missing = runner.invoke(app, ["models", "show", "nothing"])
        assert missing.exit_code == 2 and "no run 'nothing'" in missing.output
    finally:
        get_settings.cache_clear()


def test_the_example_configs_are_valid():
    from pathlib import Path

    configs = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))
    assert len(configs) >= 3
    for path in configs:
        assert RunConfig.load(path).name == path.stem


def test_names_are_checked_before_any_feature_is_read(synthetic, tmp_path):
    # The feature folders do not exist: a name error must come first, not a missing table.
    config = fusion_config(synthetic, "x", data={"text": str(tmp_path / "none"), "kg": str(tmp_path / "none")},
                           optimizer={"name": "Adamm"})
    with pytest.raises(ConfigError, match="no optimizer called 'Adamm'"):
        train(config, models_dir=tmp_path)
    config = fusion_config(synthetic, "x", data={"text": str(tmp_path / "none")}, optimizer={"options": {"bogus": 1}})
    with pytest.raises(ConfigError, match="Adam takes no 'bogus'"):
        train(config, models_dir=tmp_path)
