"""The metrics of method.md section 5: per label and per task, accuracy and precision, recall and
F1 on the positive class, where a task is positive when any of its labels is; plus label-level
micro and macro F1. One `SplitMetrics` per split, kept as plain JSON in a run's metrics.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from heritage_kg.learning.taxonomy import LabelSpace, consistent_decisions, task_matrix


@dataclass(frozen=True)
class BinaryScores:
    accuracy: float
    precision: float
    recall: float
    f1: float
    support: int      # positive rows in the truth
    predicted: int    # rows predicted positive


def binary_scores(truth: np.ndarray, predicted: np.ndarray) -> BinaryScores:
    """Scores of one binary column; precision, recall or F1 with an empty denominator are 0."""
    truth, predicted = np.asarray(truth).astype(bool), np.asarray(predicted).astype(bool)
    true_pos = int((truth & predicted).sum())
    support, said = int(truth.sum()), int(predicted.sum())
    precision = true_pos / said if said else 0.0
    recall = true_pos / support if support else 0.0
    f1 = 2 * true_pos / (support + said) if support + said else 0.0
    accuracy = float((truth == predicted).mean()) if len(truth) else 0.0
    return BinaryScores(accuracy, precision, recall, f1, support, said)


@dataclass(frozen=True)
class SplitMetrics:
    """The scores of one split at one decision policy (thresholds 0.5, or tuned)."""

    rows: int
    labels: dict[str, BinaryScores]   # by label IRI
    tasks: dict[str, BinaryScores]    # by task IRI
    micro_f1: float
    macro_f1: float
    mean_task_f1: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SplitMetrics:
        return cls(data["rows"], {k: BinaryScores(**v) for k, v in data["labels"].items()},
                   {k: BinaryScores(**v) for k, v in data["tasks"].items()},
                   data["micro_f1"], data["macro_f1"], data["mean_task_f1"])


def evaluate(label_truth: np.ndarray, label_predicted: np.ndarray, space: LabelSpace) -> SplitMetrics:
    """Scores of 0/1 label decisions against the truth. Macro F1 averages the labels that have
    a positive row or a positive prediction in this split (a label absent from both says nothing)."""
    truth, predicted = np.asarray(label_truth).astype(np.int8), np.asarray(label_predicted).astype(np.int8)
    labels = {iri: binary_scores(truth[:, j], predicted[:, j]) for j, iri in enumerate(space.labels)}
    task_truth, task_predicted = task_matrix(truth, space), task_matrix(predicted, space)
    tasks = {iri: binary_scores(task_truth[:, t], task_predicted[:, t]) for t, iri in enumerate(space.tasks)}
    true_pos = int((truth.astype(bool) & predicted.astype(bool)).sum())
    denominator = int(truth.sum() + predicted.sum())
    micro = 2 * true_pos / denominator if denominator else 0.0
    present = [s.f1 for s in labels.values() if s.support or s.predicted]
    return SplitMetrics(len(truth), labels, tasks, micro, float(np.mean(present)) if present else 0.0,
                        float(np.mean([s.f1 for s in tasks.values()])) if tasks else 0.0)


def score_splits(probabilities: dict[str, np.ndarray], targets: dict[str, np.ndarray], thresholds: np.ndarray,
                 space: LabelSpace) -> dict[str, dict[str, SplitMetrics]]:
    """Every split at thresholds 0.5 and at `thresholds`, decisions made consistent first."""
    policies = {"threshold_0.5": np.full(len(space.labels), 0.5, dtype=np.float32), "tuned": thresholds}
    return {policy: {split: evaluate(targets[split], consistent_decisions(probabilities[split], cut, space)[0], space)
                     for split in probabilities}
            for policy, cut in policies.items()}


def comparison_table(scored: dict[str, SplitMetrics], space: LabelSpace) -> str:
    """A Markdown table, one row per model: per task F1 (precision/recall beneath in the cell),
    then label micro-F1, macro-F1 and mean task F1."""
    header = ["model", *space.task_names, "label micro-F1", "label macro-F1", "mean task F1"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metrics in scored.items():
        cells = [f"{metrics.tasks[t].f1:.3f} ({metrics.tasks[t].precision:.2f}/{metrics.tasks[t].recall:.2f})"
                 for t in space.tasks]
        lines.append("| " + " | ".join([name, *cells, f"{metrics.micro_f1:.3f}", f"{metrics.macro_f1:.3f}",
                                        f"{metrics.mean_task_f1:.3f}"]) + " |")
    return "\n".join(lines)
