"""`heritage-kg experiment`: a tiny grid on synthetic data writes result tables and plots whose
rows are the grid's configurations and whose numbers are the runs' own metrics.json."""

from __future__ import annotations

import csv
from pathlib import Path
import json

import numpy as np
import pytest
import torch
from classifier_data import (
    PAINTING,
    synthetic_rows,
    write_image_features,
    write_kg_features,
    write_text_features,
    write_training_set,
)

from heritage_kg.errors import ConfigError
from heritage_kg.learning.datasets import open_dataset
from heritage_kg.learning.evaluation import evaluate
from heritage_kg.learning.experiments import grid, run_experiment
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.inputs import assemble_inputs
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.runs import load_run


@pytest.fixture(scope="module")
def grid_data(tmp_path_factory):
    """An all-media synthetic dataset and its painting subset (same split), each with text and KG
    feature tables under a folder named after it."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("experiments")
    rows = synthetic_rows(160)
    subsets = {"synth": rows, "synth-painting": [r for r in rows if PAINTING in r["medium_groups"]]}
    for name, subset in subsets.items():
        write_training_set(root / "datasets" / name, subset, name=name, split_of="synth" if name != "synth" else None)
        write_text_features(root / "text" / name, subset)
        write_kg_features(root / "kg" / name, subset, dataset=name)
        write_image_features(root / "images" / name, subset, dim=64)
    base = RunConfig.from_dict({
        "name": "base", "seed": 0,
        "data": {"dataset": "unused", "text": str(root / "text" / "{dataset}"), "kg": str(root / "kg" / "{dataset}"),
                 "images": str(root / "images" / "{dataset}")},
        "model": {"name": "fusion", "inputs": ["text", "kg", "medium"], "hidden": 8},
        "optimizer": {"name": "Adam", "lr": 0.02, "weight_decay": 0.0},
        "training": {"epochs": 2, "patience": 2, "batch_size": 32}})
    return {"root": root, "base": base, "datasets": [str(root / "datasets" / name) for name in subsets]}


def test_the_grids_name_their_datasets_and_features(grid_data):
    base, (full, painting) = grid_data["base"], grid_data["datasets"]
    ablations = grid("C", base, [painting])
    assert [run.features for run in ablations] == [("text",), ("kg",), ("medium",), ("text", "kg"),
                                                   ("text", "medium"), ("kg", "medium"), ("text", "kg", "medium")]
    assert ablations[3].name == "fusion-synth-painting-text+kg"
    assert ablations[3].config.model.inputs == ["text", "kg"]
    assert ablations[3].config.data.kg == str(grid_data["root"] / "kg" / "synth-painting")
    visual = grid("C", base, [full], mode="visual")
    assert [run.config.model.context for run in visual] == [[], ["text"], ["kg"], ["text", "kg"]]
    assert {run.config.model.name for run in visual} == {"contextnet"}
    assert [run.dataset for run in grid("B", base, [full, painting])] == [full, painting]
    # A medium subset reads the feature tables of the all-media dataset whose split it shares.
    shared = grid("B", base, [full, painting], feature_datasets={painting: "synth"})
    assert shared[1].config.data.kg == shared[0].config.data.kg == str(grid_data["root"] / "kg" / "synth")
    # C ends with the base config's own inputs when they go beyond the ablated ones.
    richer = RunConfig.from_dict({**base.to_dict(), "model": {**base.to_dict()["model"],
                                                                   "inputs": ["text", "kg", "medium", "artist"]}})
    assert [run.features for run in grid("C", richer, [full])][-1] == ("text", "kg", "medium", "artist")
    with pytest.raises(ConfigError, match="level one and level two"):
        grid("A", base, [full])
    with pytest.raises(ConfigError, match="no experiment 'D'"):
        grid("D", base, [full])


def test_experiment_b_tables_and_plot_hold_the_runs_metrics(grid_data):
    out = grid_data["root"] / "B"
    run_experiment("B", grid_data["base"], grid_data["datasets"], out=out)
    names = ["fusion-synth-text+kg+medium", "fusion-synth-painting-text+kg+medium"]
    with open(out / "results.csv", encoding="utf-8") as stream:
        table = list(csv.DictReader(stream))
    on_painting = f"{names[0]} on synth-painting"
    assert [row["configuration"] for row in table if row["policy"] == "tuned" and row["split"] == "test"] == \
        [*names, on_painting, "tfidf-logreg-synth", "majority-synth", "tfidf-logreg-synth-painting",
         "majority-synth-painting"]
    for name in names:
        metrics = json.loads((out / "runs" / name / "metrics.json").read_text())
        for row in (r for r in table if r["configuration"] == name):
            scores = metrics[row["policy"]][row["split"]]
            assert float(row["label micro-F1"]) == pytest.approx(scores["micro_f1"])
            assert float(row["mean task F1"]) == pytest.approx(scores["mean_task_f1"])
            assert float(row["F1 colour"]) == pytest.approx(scores["tasks"]["https://example.org/subject/colour"]["f1"])
            assert int(row["artworks"]) == scores["rows"]
    # both runs are tested on the same held-out artworks: the subset's test rows are the full set's painting rows
    full_test = [r for r in synthetic_rows(160) if r["split"] == "test"]
    tested = {row["configuration"]: int(row["artworks"]) for row in table if row["split"] == "test"}
    assert tested[names[0]] == len(full_test)
    assert tested[names[1]] == sum(PAINTING in r["medium_groups"] for r in full_test)
    # The all-media model on the painting subset's test artworks: its own test predictions, restricted
    # to the painting rows.
    run = load_run(out / "runs" / names[0])
    full_inputs = assemble_inputs(open_dataset(grid_data["datasets"][0]), run.config.model.inputs, [],
                                  features={"text": FeatureTable.load(Path(run.config.data.text)),
                                            "kg": FeatureTable.load(Path(run.config.data.kg))},
                                  vocabularies=run.vocabularies).splits["test"]
    _, decisions, _ = run.predict(full_inputs)
    painted = [i for i, iri in enumerate(full_inputs.artworks)
               if PAINTING in next(r for r in synthetic_rows(160) if r["artwork"] == iri)["medium_groups"]]
    expected = evaluate(full_inputs.tensors["targets"].numpy()[painted], decisions[painted], run.space)
    row = next(r for r in table if r["configuration"] == on_painting and r["policy"] == "tuned")
    assert int(row["artworks"]) == tested[names[1]] == len(painted)
    assert float(row["label micro-F1"]) == pytest.approx(expected.micro_f1)
    assert float(row["mean task F1"]) == pytest.approx(expected.mean_task_f1)
    subsets_png = (out / "B-subsets.png").read_bytes()
    assert subsets_png[:8] == b"\x89PNG\r\n\x1a\n" and len(subsets_png) > 5000
    markdown = (out / "results.md").read_text()
    assert len([line for line in markdown.splitlines() if line.startswith("| fusion-synth")]) == 3
    majority = next(r for r in table if r["configuration"] == "majority-synth" and r["split"] == "test"
                    and r["policy"] == "threshold_0.5")
    assert float(majority["label micro-F1"]) < float(next(
        r for r in table if r["configuration"] == names[0] and r["split"] == "test" and r["policy"] == "tuned"
    )["label micro-F1"])
    png = (out / "B-all.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_experiment_c_plots_the_ablations_per_dataset_and_reuses_finished_runs(grid_data):
    out = grid_data["root"] / "C"
    trained = []

    def counting_train(config, models_dir, datasets_dir):
        from heritage_kg.learning.training import train

        trained.append(config.name)
        return train(config, models_dir=models_dir, datasets_dir=datasets_dir)

    painting = grid_data["datasets"][1]
    first = run_experiment("C", grid_data["base"], [painting], out=out, train_run=counting_train, baselines=False)
    assert len(trained) == 7 and (out / "C-synth-painting.png").is_file()
    again = run_experiment("C", grid_data["base"], [painting], out=out, train_run=counting_train, baselines=False)
    assert len(trained) == 7  # every run was finished: none trained again
    assert [r.metrics.micro_f1 for r in again] == [r.metrics.micro_f1 for r in first]
    text_only = [r for r in first if r.features == "text" and r.split == "test" and r.policy == "tuned"][0]
    medium_only = [r for r in first if r.features == "medium" and r.split == "test" and r.policy == "tuned"][0]
    # text carries every label, medium only red: the ablation table shows the difference
    assert np.isfinite(text_only.metrics.micro_f1) and text_only.metrics.micro_f1 > medium_only.metrics.micro_f1


def test_experiment_c_in_visual_mode_ablates_the_contexts_of_the_image_model(grid_data):
    out = grid_data["root"] / "C-visual"
    rows = run_experiment("C", grid_data["base"], [grid_data["datasets"][0]], out=out, mode="visual", baselines=False)
    tested = [r for r in rows if r.split == "test" and r.policy == "tuned"]
    assert [(r.features, r.model) for r in tested] == [("image", "context"), ("image+text", "context"),
                                                       ("image+kg", "context"), ("image+text+kg", "context")]
    for row in tested:
        metrics = json.loads((out / "runs" / row.configuration / "metrics.json").read_text())
        assert row.metrics.mean_task_f1 == pytest.approx(metrics["tuned"]["test"]["mean_task_f1"])
    assert (out / "C-synth.png").is_file()


def test_the_experiment_command_runs_a_grid_and_says_where_its_results_are(grid_data, tmp_path):
    from typer.testing import CliRunner

    from heritage_kg.cli import app

    config = grid_data["base"].save(tmp_path / "base.toml")
    runner = CliRunner()
    result = runner.invoke(app, ["experiment", "A", "--datasets", ",".join(grid_data["datasets"]),
                                 "--config", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"experiment A (fusion): 6 configurations -> {tmp_path / 'out' / 'A-fusion'}/results.md" in result.output
    assert (tmp_path / "out" / "A-fusion" / "A-all.png").is_file()
    refused = runner.invoke(app, ["experiment", "A", "--datasets", grid_data["datasets"][0], "--config", str(config),
                                  "--out", str(tmp_path / "out")])
    assert refused.exit_code == 2 and "level one and level two" in refused.output
    # Experiment B holds the same two configurations: it reuses A's runs from the shared runs folder.
    trained = {f: f.stat().st_mtime_ns for f in (tmp_path / "out" / "runs").glob("*/metrics.json")}
    assert len(trained) == 2
    reused = runner.invoke(app, ["experiment", "B", "--datasets", ",".join(grid_data["datasets"]),
                                 "--config", str(config), "--out", str(tmp_path / "out")])
    assert reused.exit_code == 0, reused.output
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "out" / "runs").glob("*/metrics.json")} == trained
    # A run of another config under the same name is never passed off as this grid's.
    other = grid_data["base"].to_dict()
    other["model"]["hidden"] = 16
    changed = RunConfig.from_dict(other).save(tmp_path / "other.toml")
    clash = runner.invoke(app, ["experiment", "B", "--datasets", ",".join(grid_data["datasets"]),
                                "--config", str(changed), "--out", str(tmp_path / "out")])
    assert clash.exit_code == 2 and "holds a run of another config" in clash.output
