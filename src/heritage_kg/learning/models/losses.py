"""The loss of method.md 4: lambda_c * sum_t lambda_t * BCE_t + lambda_e * SmoothL1, where the
smooth L1 term (the encoder's projection onto the context embedding) counts only the rows that
have that context."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional


@dataclass(frozen=True)
class LossWeights:
    classification: float = 0.9         # lambda_c
    embedding: float = 0.1              # lambda_e
    tasks: tuple[float, ...] = ()       # lambda_t per task, in task order; empty: equal, summing to 1

    def of_tasks(self, count: int) -> torch.Tensor:
        if not self.tasks:
            return torch.full((count,), 1.0 / count)
        return torch.tensor(self.tasks, dtype=torch.float32)


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, label_task: torch.Tensor,
                        task_weights: torch.Tensor) -> torch.Tensor:
    """sum_t lambda_t * BCE_t, each BCE_t the mean over the rows and the labels of task t."""
    per_cell = functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    per_label = per_cell.mean(dim=0)
    counts = torch.bincount(label_task, minlength=len(task_weights)).clamp(min=1).to(per_label.dtype)
    per_task = torch.zeros(len(task_weights), dtype=per_label.dtype).index_add(0, label_task, per_label) / counts
    return (task_weights * per_task).sum()


def embedding_loss(projection: torch.Tensor, context: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Smooth L1 between the projection and the context, averaged over the elements `mask`
    keeps (those of rows that have that context); zero when the batch has none."""
    mask = mask.to(projection.dtype)
    per_element = functional.smooth_l1_loss(projection, context, reduction="none")
    return (per_element * mask).sum() / mask.sum().clamp(min=1.0)


def total_loss(weights: LossWeights, classification: torch.Tensor, embedding: torch.Tensor | None) -> torch.Tensor:
    loss = weights.classification * classification
    if embedding is not None:
        loss = loss + weights.embedding * embedding
    return loss
