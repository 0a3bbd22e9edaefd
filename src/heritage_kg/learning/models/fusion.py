"""The fusion classifier (beyond the paper): the same per-task heads over any subset of inputs,
image vector, title vector, artist KG vector, medium groups (multi-hot) and the artist's identity
(an embedding per training artist, slot 0 for an unknown one). Each input present in a row is
projected to a shared width and the projections are averaged over the inputs the row has, so an
artwork missing an input (no image, an unlinked artist, a CMOA object) is still classified.
Modality dropout hides present inputs at random during training so the heads learn to do without."""

from __future__ import annotations

import torch
from torch import nn

from heritage_kg.learning.models.heads import TaskHeads
from heritage_kg.learning.models.losses import LossWeights, classification_loss, total_loss
from heritage_kg.learning.models.output import ModelOutput

ARTIST = "artist"  # the identity input: integer ids, 0 = unknown


class FusionNet(nn.Module):
    def __init__(self, label_task: list[int], input_dims: dict[str, int], artists: int = 0, hidden: int = 256,
                 dropout: float = 0.2, modality_dropout: float = 0.2):
        super().__init__()
        self.arguments = {"label_task": list(label_task), "input_dims": dict(input_dims), "artists": artists,
                          "hidden": hidden, "dropout": dropout, "modality_dropout": modality_dropout}
        self.vector_inputs = [name for name in input_dims if name != ARTIST]
        self.uses_artist = ARTIST in input_dims
        self.projections = nn.ModuleDict({name: nn.Sequential(nn.Linear(dim, hidden), nn.ReLU())
                                          for name, dim in input_dims.items() if name != ARTIST})
        self.artist_embedding = nn.Embedding(artists + 1, hidden) if self.uses_artist else None
        self.modality_dropout = modality_dropout
        self.mix = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.heads = TaskHeads(hidden, list(label_task))

    @property
    def inputs(self) -> list[str]:
        return [*self.vector_inputs, *([ARTIST] if self.uses_artist else [])]

    def input_mask(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """(rows, inputs): which inputs each row has, after modality dropout when training."""
        present = [batch[f"{name}_mask"] for name in self.vector_inputs]
        if self.uses_artist:
            present.append(batch[ARTIST] > 0)
        mask = torch.stack(present, dim=1)
        if self.training and self.modality_dropout > 0:
            kept = mask & (torch.rand(mask.shape) >= self.modality_dropout)
            # A row whose every input was dropped keeps them all: it has something to learn from.
            mask = torch.where(kept.any(dim=1, keepdim=True), kept, mask)
        return mask

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        projected = [self.projections[name](batch[name]) for name in self.vector_inputs]
        if self.uses_artist:
            projected.append(self.artist_embedding(batch[ARTIST]))
        stacked = torch.stack(projected, dim=1)  # (rows, inputs, hidden)
        mask = self.input_mask(batch).to(stacked.dtype)[:, :, None]
        pooled = (stacked * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return ModelOutput(self.heads(self.mix(pooled)))

    def loss(self, output: ModelOutput, batch: dict[str, torch.Tensor], weights: LossWeights,
             label_task: torch.Tensor) -> torch.Tensor:
        task_weights = weights.of_tasks(len(self.heads.heads))
        return total_loss(weights, classification_loss(output.logits, batch["targets"], label_task, task_weights), None)
