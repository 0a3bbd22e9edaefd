"""A training run's checkpoint, written after every epoch so that an interrupted run resumes
where it stopped: the weights, the best weights so far, the optimizer's state and the random
generators' states as tensors in `checkpoint.safetensors`, the rest (epoch, history, early
stopping) in `checkpoint.json`. No pickle: loading a checkpoint runs no code."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

TENSORS = "checkpoint.safetensors"
STATE = "checkpoint.json"


@dataclass
class TrainingState:
    """Where training stands after an epoch."""

    config_digest: str
    epoch: int = 0                    # epochs completed
    best_epoch: int = 0
    best_loss: float = float("inf")
    epochs_without_improvement: int = 0
    history: list[dict] = field(default_factory=list)  # per epoch: train and validation loss, seconds
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return {**self.__dict__, "best_loss": None if self.best_loss == float("inf") else self.best_loss}

    @classmethod
    def from_dict(cls, data: dict) -> TrainingState:
        data = dict(data)
        data["best_loss"] = float("inf") if data.get("best_loss") is None else data["best_loss"]
        return cls(**data)


def _prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}{name}": tensor.detach().clone().contiguous() for name, tensor in tensors.items()}


def _unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name[len(prefix):]: tensor for name, tensor in tensors.items() if name.startswith(prefix)}


def save_checkpoint(folder: Path, state: TrainingState, model: torch.nn.Module, best: dict[str, torch.Tensor],
                    optimizer: torch.optim.Optimizer, generator: torch.Generator) -> None:
    optimizer_state = optimizer.state_dict()
    tensors = {**_prefixed("model.", model.state_dict()), **_prefixed("best.", best),
               "rng.torch": torch.get_rng_state(), "rng.batches": generator.get_state()}
    scalars: dict[str, dict] = {}
    for param, values in optimizer_state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{param}.{key}"] = value.detach().clone().contiguous()
            else:
                scalars.setdefault(str(param), {})[key] = value
    document = {"training": state.to_dict(), "optimizer": {"param_groups": optimizer_state["param_groups"],
                                                           "scalars": scalars}}
    folder.mkdir(parents=True, exist_ok=True)
    # Both files are written aside and swapped in, the JSON last: it names the epoch the tensors
    # hold, so a crash between the two swaps is caught on loading.
    save_file(tensors, folder / f".{TENSORS}.part", metadata={"epoch": str(state.epoch)})
    (folder / f".{STATE}.part").write_text(json.dumps(document), encoding="utf-8")
    os.replace(folder / f".{TENSORS}.part", folder / TENSORS)
    os.replace(folder / f".{STATE}.part", folder / STATE)


def has_checkpoint(folder: Path) -> bool:
    return (folder / TENSORS).is_file() and (folder / STATE).is_file()


def checkpoint_digest(folder: Path) -> str:
    return json.loads((folder / STATE).read_text(encoding="utf-8"))["training"]["config_digest"]


def load_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    generator: torch.Generator) -> tuple[TrainingState, dict[str, torch.Tensor]]:
    """Restores the model, optimizer and generators in place; returns the state and best weights."""
    from safetensors import safe_open

    document = json.loads((folder / STATE).read_text(encoding="utf-8"))
    state = TrainingState.from_dict(document["training"])
    with safe_open(folder / TENSORS, framework="pt") as stream:
        epoch = int(stream.metadata().get("epoch", -1))
    if epoch != state.epoch:
        raise ValueError(f"checkpoint tensors hold epoch {epoch}, its state epoch {state.epoch}")
    tensors = load_file(folder / TENSORS)
    model.load_state_dict(_unprefixed("model.", tensors))
    optimizer_state: dict[int, dict] = {}
    for name, tensor in _unprefixed("optimizer.", tensors).items():
        param, key = name.split(".", 1)
        optimizer_state.setdefault(int(param), {})[key] = tensor
    for param, values in document["optimizer"]["scalars"].items():
        optimizer_state.setdefault(int(param), {}).update(values)
    optimizer.load_state_dict({"state": optimizer_state, "param_groups": document["optimizer"]["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    generator.set_state(tensors["rng.batches"])
    return state, _unprefixed("best.", tensors)


def remove_checkpoint(folder: Path) -> None:
    for name in (TENSORS, STATE):
        (folder / name).unlink(missing_ok=True)
