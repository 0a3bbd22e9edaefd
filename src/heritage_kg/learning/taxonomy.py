"""The subject taxonomy as a constraint on predictions (the symbolic half of the classifier):
each label's probability and decision reach up `skos:broader` to its task, so a level-2 label
implies its task and a task is at least as probable as any of its labels. Per-label decision
thresholds are tuned on the validation split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heritage_kg.learning.datasets import TrainingSet

DEFAULT_THRESHOLD = 0.5
# Candidate thresholds for tuning: a fixed grid keeps the choice stable under tiny probability
# changes (and so a resumed run tunes exactly as an uninterrupted one).
THRESHOLD_GRID = np.round(np.arange(0.02, 0.99, 0.02), 2)


@dataclass(frozen=True)
class LabelSpace:
    """The labels a model predicts and the taxonomy above them.

    `labels` are concept IRIs in the column order of the dataset's label matrix; `tasks` the
    top-level concept IRIs; `parent[j]` is the index in `labels` of label j's broader concept
    when that concept is itself a label, else -1 (its parent is then its task)."""

    labels: tuple[str, ...]
    label_names: tuple[str, ...]
    tasks: tuple[str, ...]
    task_names: tuple[str, ...]
    label_task: tuple[int, ...]  # index in `tasks` of each label's task
    parent: tuple[int, ...]
    dataset: str
    dataset_version: str | None = None

    def labels_of_task(self, task: int) -> list[int]:
        return [j for j, t in enumerate(self.label_task) if t == task]

    def to_dict(self) -> dict:
        return {"labels": list(self.labels), "label_names": list(self.label_names), "tasks": list(self.tasks),
                "task_names": list(self.task_names), "label_task": list(self.label_task),
                "parent": list(self.parent), "dataset": self.dataset, "dataset_version": self.dataset_version}

    @classmethod
    def from_dict(cls, data: dict) -> LabelSpace:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})


def label_space(training_set: TrainingSet) -> LabelSpace:
    """The label space of a dataset. The one place that reads the dataset manifest's details
    (each label's task, names and broader concept), so a change of manifest format is met here."""
    manifest = training_set.manifest
    entries = manifest.labels
    task_order = list(manifest.tasks)
    task_names = dict(manifest.tasks)
    for entry in entries:  # tasks named only by their labels' entries
        if entry.task not in task_names:
            task_order.append(entry.task)
            task_names[entry.task] = entry.task_label or entry.task
    used = [task for task in task_order if any(entry.task == task for entry in entries)]
    iris = [entry.iri for entry in entries]
    column = {iri: j for j, iri in enumerate(iris)}
    return LabelSpace(
        labels=tuple(iris),
        label_names=tuple(entry.display_label or entry.iri for entry in entries),
        tasks=tuple(used),
        task_names=tuple(task_names[task] for task in used),
        label_task=tuple(used.index(entry.task) for entry in entries),
        parent=tuple(column.get(entry.broader, -1) if entry.iri != entry.task else -1 for entry in entries),
        dataset=manifest.name,
        dataset_version=manifest.version,
    )


def _bottom_up(space: LabelSpace) -> list[int]:
    """Labels ordered so that each comes before its broader label."""
    def depth(j: int) -> int:
        d = 0
        while space.parent[j] >= 0:
            j, d = space.parent[j], d + 1
        return d
    return sorted(range(len(space.labels)), key=depth, reverse=True)


def consistent_probabilities(label_probs: np.ndarray, space: LabelSpace) -> tuple[np.ndarray, np.ndarray]:
    """Label probabilities raised so that no label is less probable than a narrower one, and the
    task probabilities (each the largest of its labels'). Returns (labels, tasks)."""
    probs = np.array(label_probs, dtype=np.float32, copy=True)
    for j in _bottom_up(space):
        if space.parent[j] >= 0:
            probs[:, space.parent[j]] = np.maximum(probs[:, space.parent[j]], probs[:, j])
    tasks = np.zeros((len(probs), len(space.tasks)), dtype=np.float32)
    for t in range(len(space.tasks)):
        members = space.labels_of_task(t)
        if members:
            tasks[:, t] = probs[:, members].max(axis=1)
    return probs, tasks


def consistent_decisions(label_probs: np.ndarray, thresholds: np.ndarray,
                         space: LabelSpace) -> tuple[np.ndarray, np.ndarray]:
    """Yes/no per label at its threshold, then carried up `skos:broader`: a label said yes makes
    its broader label and its task yes. Returns (labels, tasks) as 0/1 int8 arrays."""
    probs, _ = consistent_probabilities(label_probs, space)
    decided = (probs >= np.asarray(thresholds, dtype=np.float32)[None, :]).astype(np.int8)
    for j in _bottom_up(space):
        if space.parent[j] >= 0:
            decided[:, space.parent[j]] |= decided[:, j]
    return decided, task_matrix(decided, space)


def task_matrix(label_matrix: np.ndarray, space: LabelSpace) -> np.ndarray:
    """A task is positive when any of its labels is (method.md section 5)."""
    tasks = np.zeros((len(label_matrix), len(space.tasks)), dtype=np.int8)
    for t in range(len(space.tasks)):
        members = space.labels_of_task(t)
        if members:
            tasks[:, t] = np.asarray(label_matrix)[:, members].max(axis=1)
    return tasks


def tune_thresholds(label_probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per label, the grid threshold with the best F1 on these (validation) rows; a label without
    a positive row keeps 0.5, since there is nothing to tune it on. Ties go to the threshold
    nearest 0.5."""
    probs = np.asarray(label_probs, dtype=np.float32)
    targets = np.asarray(targets).astype(bool)
    chosen = np.full(probs.shape[1], DEFAULT_THRESHOLD, dtype=np.float32)
    order = np.argsort(np.abs(THRESHOLD_GRID - DEFAULT_THRESHOLD), kind="stable")
    grid = THRESHOLD_GRID[order]
    for j in range(probs.shape[1]):
        positives = targets[:, j]
        if not positives.any():
            continue
        predicted = probs[:, j][:, None] >= grid[None, :]
        true_pos = (predicted & positives[:, None]).sum(axis=0)
        f1 = 2 * true_pos / (predicted.sum(axis=0) + positives.sum())
        chosen[j] = grid[int(np.argmax(f1))]
    return chosen
