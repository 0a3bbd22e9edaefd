"""Image trunks by name: the method's ResNet-50 (fc removed, 2048-d), a tiny convolutional net
for tests and quick checks, and `precomputed` for vectors already made by `embed images`.

Weights are never downloaded: ResNet-50 takes a state-dict file, ImageNet weights already in
torchvision's cache, or none (seeded random), as `learning/features/images.py` locates them."""

from __future__ import annotations

import torch
from class_resolver import FunctionResolver
from torch import nn

from heritage_kg.errors import TrainingError
from heritage_kg.learning.features.images import locate_weights, resnet50_trunk

RESNET_DIM = 2048


class Trunk(nn.Module):
    """An image trunk and the size of the embedding it gives."""

    def __init__(self, body: nn.Module, out_dim: int):
        super().__init__()
        self.body = body
        self.out_dim = out_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)


def resnet50(weights: str | None = "none") -> Trunk:
    """The method's trunk; random weights (under the run's seed) for `none`."""
    return Trunk(resnet50_trunk(locate_weights(weights)), RESNET_DIM)


def tiny(weights: str | None = "none") -> Trunk:
    """Three strided convolutions and a global pool (32-d): enough to learn colour and shape
    on small synthetic images in seconds."""
    if weights not in (None, "none"):
        raise TrainingError("the tiny trunk has no pretrained weights; set weights = \"none\"")
    body = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return Trunk(body, 32)


def precomputed(weights: str | None = "none", dim: int = RESNET_DIM) -> Trunk:
    """The frozen-trunk way: the inputs are already the trunk's 2048-d vectors."""
    return Trunk(nn.Identity(), dim)


backbone_resolver: FunctionResolver = FunctionResolver([resnet50, tiny, precomputed])
