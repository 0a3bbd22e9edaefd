"""The visual classifier after ContextNet (method.md 4): an image trunk feeds one multi-label head
per task, and an encoder projects the same visual embedding onto the artwork's context embedding
(title text, artist KG vector, or both concatenated). The context only shapes training; a
prediction needs the image alone."""

from __future__ import annotations

import torch
from torch import nn

from heritage_kg.learning.models.backbones import RESNET_DIM, backbone_resolver
from heritage_kg.learning.models.heads import TaskHeads
from heritage_kg.learning.models.losses import LossWeights, classification_loss, embedding_loss, total_loss
from heritage_kg.learning.models.output import ModelOutput


class ContextNet(nn.Module):
    """`backbone` is a trunk by name (`resnet50`, `tiny`, or `precomputed` for the frozen-trunk
    way over 2048-d vectors); `context` names the batch inputs whose concatenation the encoder
    learns to predict, with their sizes in `context_dims`."""

    image_input = "image"

    def __init__(self, label_task: list[int], backbone: str = "resnet50", weights: str | None = "none",
                 context: list[str] = (), context_dims: list[int] = (), image_dim: int = RESNET_DIM):
        super().__init__()
        self.arguments = {"label_task": list(label_task), "backbone": backbone, "weights": weights,
                          "context": list(context), "context_dims": list(context_dims), "image_dim": image_dim}
        kwargs = {"dim": image_dim} if backbone == "precomputed" else {}
        self.trunk = backbone_resolver.lookup(backbone)(weights=weights, **kwargs)
        self.heads = TaskHeads(self.trunk.out_dim, list(label_task))
        self.context = list(context)
        self.encoder = nn.Linear(self.trunk.out_dim, sum(context_dims)) if self.context else None

    @property
    def inputs(self) -> list[str]:
        """What a prediction reads: the image only."""
        return [self.image_input]

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        embedding = self.trunk(batch[self.image_input])
        projection = self.encoder(embedding) if self.encoder is not None else None
        return ModelOutput(self.heads(embedding), projection)

    def loss(self, output: ModelOutput, batch: dict[str, torch.Tensor], weights: LossWeights,
             label_task: torch.Tensor) -> torch.Tensor:
        task_weights = weights.of_tasks(len(self.heads.heads))
        classification = classification_loss(output.logits, batch["targets"], label_task, task_weights)
        if output.projection is None:
            return total_loss(weights, classification, None)
        # Each part of the context counts only on the rows that have it (an unlinked artist's
        # KG part is masked, its title part is not).
        context = torch.cat([batch[name] for name in self.context], dim=1)
        mask = torch.cat([batch[f"{name}_mask"][:, None].expand_as(batch[name]) for name in self.context], dim=1)
        return total_loss(weights, classification, embedding_loss(output.projection, context, mask))
