"""The experiments of method.md section 5, as grids of training runs from one base config:

- A: level one vs level two labels (one run per dataset given, e.g. tate-level1 and tate-level2);
- B: all media vs each medium subset (`dataset build --medium all`), whose test artworks are
  test artworks of the full dataset (learning/datasets.py): the all-media model is also scored on
  each subset's held-out artworks, beside the model trained on that subset alone;
- C: feature ablations, on each dataset given: in fusion mode every non-empty combination of
  title text, artist KG vector and medium groups; in visual mode the image alone and with the
  text, KG or text+KG context of ContextNet.

A and B use the base config's model and features; C adds the base config's own inputs as its last
configuration when they are more than the ablated ones (artist identity, title words). A feature
table path in the base config may say `{dataset}`: each run reads the table made for its own
dataset (KG vectors are leak-free only for theirs), and a medium subset reads its all-media
dataset's tables, whose split it shares. Each run is an ordinary run folder, named after its experiment, dataset and features; a
finished one is reused, so a grid resumes. The TF-IDF and majority baselines are scored on every
dataset of the grid and sit in the same tables. Output, in the experiment's folder: `results.csv`
(every run, both threshold policies, every split), `results.md` (test split, tuned thresholds) and
one PNG per dataset group: F1 per task per configuration."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from heritage_kg.errors import ConfigError
from heritage_kg.learning.datasets import SPLITS, open_dataset
from heritage_kg.learning.evaluation import SplitMetrics
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.runs import POLICIES, load_run
from heritage_kg.learning.taxonomy import label_space

EXPERIMENTS = ("A", "B", "C")
MODES = ("fusion", "visual")
FUSION_ABLATION_INPUTS = ("text", "kg", "medium")
VISUAL_CONTEXTS = ((), ("text",), ("kg",), ("text", "kg"))
BASELINES = ("tfidf-logreg", "majority")


@dataclass(frozen=True)
class GridRun:
    """One configuration of a grid: its dataset, its features and the run config that trains it."""

    name: str
    dataset: str
    features: tuple[str, ...]
    config: RunConfig


@dataclass(frozen=True)
class ResultRow:
    experiment: str
    configuration: str   # a run's name, or a baseline's
    dataset: str
    features: str        # "+"-joined
    model: str           # the classifier's name, or the baseline's
    policy: str
    split: str
    metrics: SplitMetrics


def grid(experiment: str, base: RunConfig, datasets: list[str], *, mode: str = "fusion",
         feature_datasets: dict[str, str] | None = None) -> list[GridRun]:
    """The runs of `experiment` over `datasets` (A: the levels; B: all media first, then the
    subsets; C: the datasets to ablate on). `feature_datasets` names, per dataset, the dataset
    whose feature tables it reads (a medium subset: its all-media dataset); by default its own."""
    if experiment not in EXPERIMENTS:
        raise ConfigError(f"no experiment {experiment!r}; the experiments are {', '.join(EXPERIMENTS)}")
    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not datasets:
        raise ConfigError(f"experiment {experiment} needs at least one dataset")
    if experiment == "A" and len(datasets) != 2:
        raise ConfigError("experiment A compares two datasets: level one and level two, in that order")
    if experiment == "C":
        feature_sets = [("image", *context) for context in VISUAL_CONTEXTS] if mode == "visual" else \
            [combo for size in (1, 2, 3) for combo in itertools.combinations(FUSION_ABLATION_INPUTS, size)]
        if set(_base_features(base, mode)) - set(itertools.chain(*feature_sets)):
            feature_sets.append(_base_features(base, mode))
    else:
        feature_sets = [_base_features(base, mode)]
    features_of = feature_datasets or {}
    return [_run(experiment, mode, base, dataset, features, features_of.get(dataset, Path(dataset).name))
            for dataset in datasets for features in feature_sets]


def _base_features(base: RunConfig, mode: str) -> tuple[str, ...]:
    return ("image", *base.model.context) if mode == "visual" else tuple(base.model.inputs)


def _run(experiment: str, mode: str, base: RunConfig, dataset: str, features: tuple[str, ...],
         feature_dataset: str) -> GridRun:
    name = f"{mode}-{Path(dataset).name}-{'+'.join(features)}"
    data = replace(base.data, dataset=dataset, **{kind: _for_dataset(getattr(base.data, kind), feature_dataset)
                                                 for kind in ("text", "kg", "images")})
    if mode == "visual":
        model = replace(base.model, name="contextnet", context=[f for f in features if f != "image"])
    else:
        model = replace(base.model, name="fusion", inputs=list(features))
    return GridRun(name, dataset, features, replace(base, name=name, data=data, model=model))


def _for_dataset(path: str | None, dataset: str) -> str | None:
    return path.replace("{dataset}", dataset) if path else path


def run_experiment(experiment: str, base: RunConfig, datasets: list[str], *, out: Path, mode: str = "fusion",
                   datasets_dir: Path | None = None, runs_dir: Path | None = None, train_run: Callable | None = None,
                   baselines: bool = True) -> list[ResultRow]:
    """Trains (or reuses) every run of the grid into `runs_dir` (default `out/runs`), scores the
    baselines on its datasets (folders, or names under `datasets_dir`), and writes the tables and
    plots into `out`; returns the rows written."""
    from heritage_kg.learning.training import train

    feature_datasets = {d: open_dataset(d, datasets_dir).manifest.split_of or Path(d).name for d in datasets}
    runs = grid(experiment, base, datasets, mode=mode, feature_datasets=feature_datasets)
    models_dir = Path(runs_dir or Path(out) / "runs")
    rows: list[ResultRow] = []
    for grid_run in runs:
        folder = models_dir / grid_run.name
        finished = (folder / "metrics.json").is_file() and not (folder / "checkpoint.json").exists()
        run = load_run(folder, with_model=False) if finished else \
            (train_run or train)(grid_run.config, models_dir=models_dir, datasets_dir=datasets_dir)
        if run.config.digest != grid_run.config.digest:
            raise ConfigError(f"{folder} holds a run of another config than this grid's {grid_run.name}; "
                              "give the experiment another --out, or remove that folder")
        rows += _rows(experiment, grid_run.name, grid_run.dataset, "+".join(grid_run.features), run.model_name,
                      run.metrics)
    if experiment == "B":
        rows += _all_media_on_subsets(models_dir / runs[0].name, runs[1:], datasets_dir)
    if baselines:
        rows += _baseline_rows(experiment, list(dict.fromkeys(datasets)), datasets_dir)
    write_results(rows, Path(out), experiment, datasets_dir)
    return rows


def _all_media_on_subsets(all_media: Path, subsets: list[GridRun], datasets_dir: Path | None) -> list[ResultRow]:
    """The all-media run scored on each subset's test split: the same held-out artworks as the
    subset's own model. Its configuration is named `<all-media run> on <subset>`."""
    from heritage_kg.learning.training import score_on_dataset

    run = load_run(all_media)
    rows = []
    for subset in subsets:
        metrics = score_on_dataset(run, open_dataset(subset.dataset, datasets_dir))
        rows += [ResultRow("B", f"{run.name} on {Path(subset.dataset).name}", subset.dataset,
                           "+".join(subset.features), run.model_name, policy, "test", metrics[policy]["test"])
                 for policy in POLICIES]
    return rows


def _rows(experiment, configuration, dataset, features, model, metrics) -> list[ResultRow]:
    return [ResultRow(experiment, configuration, dataset, features, model, policy, split, metrics[policy][split])
            for policy in POLICIES for split in SPLITS]


def _baseline_rows(experiment: str, datasets: list[str], datasets_dir: Path | None) -> list[ResultRow]:
    from heritage_kg.learning.baseline import MajorityBaseline, TfidfLogisticBaseline, evaluate_baseline

    rows = []
    for dataset in datasets:
        training_set = open_dataset(dataset, datasets_dir)
        for name, estimator in (("tfidf-logreg", TfidfLogisticBaseline()), ("majority", MajorityBaseline())):
            rows += _rows(experiment, f"{name}-{Path(dataset).name}", dataset, "title+medium+artist"
                          if name == "tfidf-logreg" else "none", name, evaluate_baseline(estimator, training_set))
    return rows


# --- tables and plots

def write_results(rows: list[ResultRow], out: Path, experiment: str, datasets_dir: Path | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    tasks = _task_names(rows, datasets_dir)
    written = [_write_csv(rows, out / "results.csv", tasks), _write_markdown(rows, out / "results.md", experiment,
                                                                             tasks)]
    tested = [r for r in rows if r.split == "test" and r.policy == "tuned"]
    groups = {"all": tested} if experiment != "C" else \
        {Path(dataset).name: [r for r in tested if r.dataset == dataset] for dataset in dict.fromkeys(r.dataset for r in tested)}
    for group, group_rows in groups.items():
        written.append(plot_task_f1(group_rows, tasks, out / f"{experiment}-{group}.png",
                                    f"Experiment {experiment}: test F1 per task (tuned thresholds), {group}"))
    if experiment == "B":
        written.append(plot_subsets_against_all_media(tested, out / "B-subsets.png"))
    return written


def _task_names(rows: list[ResultRow], datasets_dir: Path | None) -> dict[str, str]:
    """Task IRI -> label, from the first dataset's label space (every dataset of a grid shares it)."""
    space = label_space(open_dataset(rows[0].dataset, datasets_dir))
    return dict(zip(space.tasks, space.task_names, strict=True))


def _columns(tasks: dict[str, str]) -> list[str]:
    return ["experiment", "configuration", "dataset", "features", "model", "policy", "split", "artworks",
            *[f"F1 {name}" for name in tasks.values()], "label micro-F1", "label macro-F1", "mean task F1"]


def _values(row: ResultRow, tasks: dict[str, str]) -> list:
    m = row.metrics
    return [row.experiment, row.configuration, Path(row.dataset).name, row.features, row.model, row.policy, row.split,
            m.rows, *[m.tasks[iri].f1 if iri in m.tasks else "" for iri in tasks], m.micro_f1, m.macro_f1,
            m.mean_task_f1]


def _write_csv(rows: list[ResultRow], path: Path, tasks: dict[str, str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(_columns(tasks))
        writer.writerows(_values(row, tasks) for row in rows)
    return path


def _write_markdown(rows: list[ResultRow], path: Path, experiment: str, tasks: dict[str, str]) -> Path:
    columns = [c for c in _columns(tasks) if c not in ("experiment", "policy", "split")]
    lines = [f"# Experiment {experiment}: test split, thresholds tuned on validation", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        if row.split == "test" and row.policy == "tuned":
            cells = [v for c, v in zip(_columns(tasks), _values(row, tasks), strict=True)
                     if c not in ("experiment", "policy", "split")]
            lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in cells) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def plot_subsets_against_all_media(rows: list[ResultRow], path: Path) -> Path:
    """Experiment B as the published figure has it: per medium subset, on its held-out artworks,
    the model trained on the subset, the all-media model and the TF-IDF baseline trained on the
    subset; label micro-F1 and mean task F1 side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    subsets = list(dict.fromkeys(r.dataset for r in rows if " on " in r.configuration))
    def kind(row: ResultRow) -> str:
        return "all media" if " on " in row.configuration else row.model
    kinds = ["all media", *dict.fromkeys(kind(r) for r in rows if r.dataset in subsets and kind(r) != "all media")]
    kinds = [k for k in kinds if k != "majority"]
    by = {(r.dataset, kind(r)): r.metrics for r in rows}
    figure, panels = plt.subplots(1, 2, figsize=(max(8, 1.1 * len(subsets) * 2), 4), sharey=True)
    width = 0.8 / len(kinds)
    names = [Path(d).name.split("-", 2)[-1] for d in subsets]
    for panel, (measure, label) in zip(panels, (("micro_f1", "label micro-F1"), ("mean_task_f1", "mean task F1")),
                                       strict=True):
        for number, name in enumerate(kinds):
            values = [getattr(by[(d, name)], measure) if (d, name) in by else 0.0 for d in subsets]
            panel.bar(np.arange(len(subsets)) + number * width, values, width,
                      label=f"trained on the subset ({name})" if name != "all media" else "trained on all media")
        panel.set_xticks(np.arange(len(subsets)) + width * (len(kinds) - 1) / 2, names, rotation=35, ha="right",
                         fontsize=7)
        panel.set_title(f"{label}, each subset's test artworks", fontsize=9)
        panel.set_ylim(0, 1)
    panels[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_task_f1(rows: list[ResultRow], tasks: dict[str, str], path: Path, title: str) -> Path:
    """Grouped bars like the published figures: one group per task, one bar per configuration."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
    import numpy as np

    width = 0.8 / max(len(rows), 1)
    figure, axes = plt.subplots(figsize=(max(6, 1.4 * len(tasks) + 0.25 * len(rows)), 4))
    for number, row in enumerate(rows):
        f1 = [row.metrics.tasks[iri].f1 if iri in row.metrics.tasks else 0.0 for iri in tasks]
        axes.bar(np.arange(len(tasks)) + number * width, f1, width, label=row.configuration)
    axes.set_xticks(np.arange(len(tasks)) + width * (len(rows) - 1) / 2, list(tasks.values()))
    axes.set_ylim(0, 1)
    axes.set_ylabel("F1")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1, 1))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
