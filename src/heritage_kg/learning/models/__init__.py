"""The classifier's torch modules, found by name: `contextnet` (visual, method.md 4) and `fusion`
(any subset of inputs); image trunks through `backbone_resolver`."""

from __future__ import annotations

from class_resolver import ClassResolver
from torch import nn

from heritage_kg.errors import ConfigError
from heritage_kg.learning.models.backbones import backbone_resolver
from heritage_kg.learning.models.contextnet import ContextNet
from heritage_kg.learning.models.fusion import FusionNet
from heritage_kg.learning.models.losses import LossWeights
from heritage_kg.learning.models.output import ModelOutput

model_resolver: ClassResolver[nn.Module] = ClassResolver([ContextNet, FusionNet], base=nn.Module, suffix="Net")


def build_model(name: str, arguments: dict) -> nn.Module:
    """A classifier by name from its constructor arguments (as a run's model.json keeps them)."""
    try:
        cls = model_resolver.lookup(name)
    except (KeyError, ValueError):
        raise ConfigError(f"no classifier model called {name!r}; known: {', '.join(sorted(model_resolver.lookup_dict))}") from None
    return cls(**arguments)


def model_name(model: nn.Module) -> str:
    return model_resolver.normalize_cls(type(model))


__all__ = ["ContextNet", "FusionNet", "LossWeights", "ModelOutput", "backbone_resolver", "build_model",
           "model_name", "model_resolver"]
