"""What every classifier's forward pass returns."""

from __future__ import annotations

from typing import NamedTuple

import torch


class ModelOutput(NamedTuple):
    logits: torch.Tensor                  # (rows, labels), before the sigmoid
    projection: torch.Tensor | None = None  # the encoder's guess of the context embedding (ContextNet)
