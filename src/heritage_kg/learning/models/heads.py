"""One multi-label classification head per task (method.md 4): a linear layer per task whose
sigmoid outputs are that task's labels, Xavier-initialised, gathered back into label order."""

from __future__ import annotations

import torch
from torch import nn


class TaskHeads(nn.Module):
    def __init__(self, in_dim: int, label_task: list[int]):
        super().__init__()
        tasks = sorted(set(label_task))
        self.members = [[j for j, t in enumerate(label_task) if t == task] for task in tasks]
        self.heads = nn.ModuleList(nn.Linear(in_dim, len(members)) for members in self.members)
        order = [j for members in self.members for j in members]
        # Head outputs are concatenated task by task; this index puts them back in label order.
        self.register_buffer("to_label_order", torch.argsort(torch.tensor(order)), persistent=False)
        for head in self.heads:
            nn.init.xavier_uniform_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        """Logits, one column per label in the dataset's order."""
        logits = torch.cat([head(embedding) for head in self.heads], dim=1)
        return logits.index_select(1, self.to_label_order)
