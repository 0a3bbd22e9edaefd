"""The fusion classifier (beyond the paper): the same per-task heads over any subset of inputs,
image vector, title vector, artist KG vector, medium groups (multi-hot), identities read from the
graph (the artist, the catalogue group: a sketchbook or print series, and the period: the decade
the artwork was begun; an embedding per value seen in training, slot 0 for an unknown one) and the
title's words (a bag of word embeddings: the lexical evidence a sentence vector blurs, "Study of a
Tree"). Each input present in a row is projected to a shared width and the projections are
averaged over the inputs the row has, so an artwork missing an input (no image, an unlinked
artist, a CMOA object) is still classified.
Modality dropout hides present inputs at random during training so the heads learn to do without.

With `wide`, the sparse inputs (title words, identities, medium groups) also reach the logits
through a linear path of their own, "wide and deep": a per-label weight for each word, identity and
medium group, as the TF-IDF baseline's logistic regressions have, beside the deep mixture of every
input. The same input mask gates both paths."""

from __future__ import annotations

import torch
from torch import nn

from heritage_kg.learning.models.heads import TaskHeads
from heritage_kg.learning.models.losses import LossWeights, classification_loss, total_loss
from heritage_kg.learning.models.output import ModelOutput

IDENTITIES = ("artist", "group", "period")  # identity inputs: integer ids, 0 = unknown
WORDS = "words"    # the title's words: (rows, words) integer ids, 0 = padding
MEDIUM = "medium"  # the medium groups, multi-hot


class FusionNet(nn.Module):
    def __init__(self, label_task: list[int], input_dims: dict[str, int], artists: int = 0, words: int = 0,
                 hidden: int = 256, dropout: float = 0.2, modality_dropout: float = 0.2, wide: bool = False,
                 groups: int = 0, periods: int = 0):
        super().__init__()
        self.arguments = {"label_task": list(label_task), "input_dims": dict(input_dims), "artists": artists,
                          "words": words, "hidden": hidden, "dropout": dropout, "modality_dropout": modality_dropout,
                          "wide": wide, "groups": groups, "periods": periods}
        sizes = {"artist": artists, "group": groups, "period": periods}  # vocabulary sizes
        self.vector_inputs = [name for name in input_dims if name not in (*IDENTITIES, WORDS)]
        self.identities = [name for name in IDENTITIES if name in input_dims]
        self.uses_words = WORDS in input_dims
        self.projections = nn.ModuleDict({name: nn.Sequential(nn.Linear(input_dims[name], hidden), nn.ReLU())
                                          for name in self.vector_inputs})
        for name in self.identities:  # artist_embedding, group_embedding, period_embedding
            setattr(self, f"{name}_embedding", nn.Embedding(sizes[name] + 1, hidden))
        self.word_embedding = nn.EmbeddingBag(words + 1, hidden, mode="mean", padding_idx=0) \
            if self.uses_words else None
        self.modality_dropout = modality_dropout
        self.mix = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.heads = TaskHeads(hidden, list(label_task))
        labels = len(label_task)
        self.wide = nn.ModuleDict({name: layer for name, layer in (
            (WORDS, nn.EmbeddingBag(words + 1, labels, mode="sum", padding_idx=0) if self.uses_words else None),
            *((name, nn.Embedding(sizes[name] + 1, labels)) for name in self.identities),
            (MEDIUM, nn.Linear(input_dims[MEDIUM], labels, bias=False) if MEDIUM in input_dims else None),
        ) if layer is not None}) if wide else nn.ModuleDict()
        for layer in self.wide.values():
            nn.init.zeros_(layer.weight)  # training starts from the deep path alone

    @property
    def inputs(self) -> list[str]:
        return [*self.vector_inputs, *self.identities, *([WORDS] if self.uses_words else [])]

    def input_mask(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """(rows, inputs): which inputs each row has, after modality dropout when training."""
        present = [batch[f"{name}_mask"] for name in self.vector_inputs]
        present += [batch[name] > 0 for name in self.identities]
        if self.uses_words:
            present.append((batch[WORDS] > 0).any(dim=1))
        mask = torch.stack(present, dim=1)
        if self.training and self.modality_dropout > 0:
            kept = mask & (torch.rand(mask.shape) >= self.modality_dropout)
            # A row whose every input was dropped keeps them all: it has something to learn from.
            mask = torch.where(kept.any(dim=1, keepdim=True), kept, mask)
        return mask

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        projected = [self.projections[name](batch[name]) for name in self.vector_inputs]
        projected += [getattr(self, f"{name}_embedding")(batch[name]) for name in self.identities]
        if self.uses_words:
            projected.append(self.word_embedding(batch[WORDS]))
        stacked = torch.stack(projected, dim=1)  # (rows, inputs, hidden)
        present = self.input_mask(batch).to(stacked.dtype)
        mask = present[:, :, None]
        pooled = (stacked * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        logits = self.heads(self.mix(pooled))
        for name, layer in self.wide.items():
            logits = logits + layer(batch[name]) * present[:, self.inputs.index(name), None]
        return ModelOutput(logits)

    def loss(self, output: ModelOutput, batch: dict[str, torch.Tensor], weights: LossWeights,
             label_task: torch.Tensor) -> torch.Tensor:
        task_weights = weights.of_tasks(len(self.heads.heads))
        return total_loss(weights, classification_loss(output.logits, batch["targets"], label_task, task_weights), None)
