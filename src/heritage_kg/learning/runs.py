"""The model registry on disk: one folder per trained classifier under the models folder, with
everything needed to use it and to judge it, and nothing that runs code when loaded.

    <models>/<run name>/
        config.toml          the run config, as validated
        weights.safetensors  the best validation checkpoint's weights
        model.json           the classifier's name, constructor arguments and input vocabularies
        labels.json          the label space (labels, tasks, skos:broader) and tuned thresholds
        metrics.json         per split, at thresholds 0.5 and tuned: per label and per task scores,
                             label micro and macro F1; and how training went (epochs, times, memory)
        README.md            the model card
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from heritage_kg.errors import TrainingError
from heritage_kg.learning.evaluation import SplitMetrics
from heritage_kg.learning.inputs import SplitInputs, Vocabularies
from heritage_kg.learning.models import build_model
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.taxonomy import LabelSpace, consistent_decisions, consistent_probabilities

RUN_FILES = ("config.toml", "weights.safetensors", "model.json", "labels.json", "metrics.json", "README.md")
POLICIES = ("threshold_0.5", "tuned")


@dataclass
class ClassificationRun:
    folder: Path
    config: RunConfig
    space: LabelSpace
    thresholds: np.ndarray
    model_name: str
    model_arguments: dict
    vocabularies: Vocabularies
    metrics: dict[str, dict[str, SplitMetrics]]  # policy -> split -> scores
    training: dict = field(default_factory=dict)
    model: torch.nn.Module | None = None

    @property
    def name(self) -> str:
        return self.folder.name

    def predict(self, inputs: SplitInputs, *, tuned: bool = True, batch_size: int = 256
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(label probabilities, label decisions, task decisions), consistent with the taxonomy."""
        probabilities = predict_probabilities(self.model, inputs, batch_size)
        thresholds = self.thresholds if tuned else np.full(len(self.space.labels), 0.5, dtype=np.float32)
        labels, tasks = consistent_decisions(probabilities, thresholds, self.space)
        return consistent_probabilities(probabilities, self.space)[0], labels, tasks


def predict_probabilities(model: torch.nn.Module, inputs: SplitInputs, batch_size: int = 256) -> np.ndarray:
    """Sigmoid outputs for every row of `inputs`, in eval mode (no dropout of any kind)."""
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            rows = torch.arange(start, min(start + batch_size, len(inputs)))
            out.append(torch.sigmoid(model(inputs.batch(rows)).logits))
    model.train(was_training)
    width = len(model.heads.to_label_order)
    return torch.cat(out).numpy() if out else np.zeros((0, width), dtype=np.float32)


def save_run(run: ClassificationRun, weights: dict[str, torch.Tensor]) -> Path:
    folder = run.folder
    folder.mkdir(parents=True, exist_ok=True)
    run.config.save(folder / "config.toml")
    save_file({k: v.detach().clone().contiguous() for k, v in weights.items()}, folder / "weights.safetensors",
              metadata={"model": run.model_name})
    _write_json(folder / "model.json", {"model": run.model_name, "arguments": run.model_arguments,
                                        "vocabularies": run.vocabularies.to_dict()})
    _write_json(folder / "labels.json", {
        "dataset": run.space.dataset, "dataset_version": run.space.dataset_version,
        "labels": [{"iri": iri, "label": name, "task": run.space.tasks[t], "threshold": float(threshold)}
                   for iri, name, t, threshold in zip(run.space.labels, run.space.label_names, run.space.label_task,
                                                      run.thresholds, strict=True)],
        "space": run.space.to_dict()})
    _write_json(folder / "metrics.json", {
        **{policy: {split: m.to_dict() for split, m in splits.items()} for policy, splits in run.metrics.items()},
        "training": run.training})
    (folder / "README.md").write_text(model_card(run), encoding="utf-8")
    return folder


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def load_run(folder: Path, *, with_model: bool = True) -> ClassificationRun:
    """A run folder as written by `train`; the weights are read as tensors only (safetensors)."""
    folder = Path(folder)
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing:
        raise TrainingError(f"{folder} is not a finished run (missing {', '.join(missing)}); "
                            "train one with 'heritage-kg train --config FILE.toml'")
    description = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    run = ClassificationRun(
        folder, RunConfig.load(folder / "config.toml"), LabelSpace.from_dict(labels["space"]),
        np.array([entry["threshold"] for entry in labels["labels"]], dtype=np.float32),
        description["model"], description["arguments"], Vocabularies.from_dict(description["vocabularies"]),
        {policy: {split: SplitMetrics.from_dict(m) for split, m in metrics[policy].items()} for policy in POLICIES},
        metrics.get("training", {}))
    if with_model:
        # The saved weights replace any pretrained ones: none is looked for on this machine.
        arguments = {**run.model_arguments, **({"weights": "none"} if "weights" in run.model_arguments else {})}
        model = build_model(run.model_name, arguments)
        model.load_state_dict(load_file(folder / "weights.safetensors"))
        run.model = model.eval()
    return run


def list_runs(models_dir: Path) -> list[ClassificationRun]:
    """The finished runs under `models_dir`, by name (their weights not loaded)."""
    if not Path(models_dir).is_dir():
        return []
    return [load_run(folder, with_model=False) for folder in sorted(Path(models_dir).iterdir())
            if folder.is_dir() and (folder / "metrics.json").is_file()]


def model_card(run: ClassificationRun) -> str:
    """The run's model card, in Markdown."""
    config, space = run.config, run.space
    lines = [f"# {run.name}", "",
             f"A `{run.model_name}` subject classifier trained on dataset `{space.dataset}`"
             f" (version {space.dataset_version or 'unknown'}): {len(space.labels)} labels in "
             f"{len(space.tasks)} tasks ({', '.join(space.task_names)}).", "",
             "## Inputs", ""]
    if run.model_name == "context":
        lines.append(f"The image only ({config.model.trunk} trunk, backbone "
                     f"`{run.model_arguments['backbone']}`); during training the encoder learnt to predict the "
                     f"{' + '.join(config.model.context) or 'no'} context embedding.")
    else:
        lines.append(f"Any subset of: {', '.join(config.model.inputs)}; a missing input is masked.")
    lines += ["", "## Test split", "", "| task | F1 at 0.5 | F1 tuned | precision tuned | recall tuned |",
              "|---|---|---|---|---|"]
    at_half, tuned = run.metrics["threshold_0.5"]["test"], run.metrics["tuned"]["test"]
    for iri, name in zip(space.tasks, space.task_names, strict=True):
        t = tuned.tasks[iri]
        lines.append(f"| {name} | {at_half.tasks[iri].f1:.3f} | {t.f1:.3f} | {t.precision:.3f} | {t.recall:.3f} |")
    lines += ["", f"Label micro-F1 {at_half.micro_f1:.3f} at 0.5, {tuned.micro_f1:.3f} tuned; macro-F1 "
              f"{at_half.macro_f1:.3f} at 0.5, {tuned.macro_f1:.3f} tuned; mean task F1 {tuned.mean_task_f1:.3f} "
              f"tuned ({tuned.rows} test artworks).", "",
              "Thresholds are tuned per label on the validation split (labels.json); a label said yes makes "
              "its broader concept and its task yes (skos:broader).", "", "## Training", ""]
    training = run.training
    lines.append(f"{training.get('epochs_run', '?')} epochs (best: {training.get('best_epoch', '?')}, "
                 f"{'stopped early' if training.get('stopped_early') else 'no early stop'}), "
                 f"{training.get('seconds_per_epoch', 0):.2f} s per epoch, {training.get('seconds', 0):.1f} s in all; "
                 f"peak memory {training.get('peak_memory_mb', 0):.0f} MB. Optimizer {config.optimizer.name} "
                 f"(lr {config.optimizer.lr:g}), batch {config.training.batch_size}, seed {config.seed}. "
                 f"The config is config.toml: `heritage-kg train --config config.toml` retrains it, once its `name` "
                 "is changed (a finished run is never overwritten).")
    return "\n".join(lines) + "\n"
