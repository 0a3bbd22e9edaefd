"""The one configuration object a training run reads (`heritage-kg train --config FILE.toml`):
dataclasses with the method's defaults, loaded from TOML and validated, so that an unknown key or
a value of the wrong type is a `ConfigError` naming it, before anything is computed.

    name = "fusion-tate-level2"      # the run folder's name under the models folder
    seed = 0
    [data]      dataset, and the feature tables: text, kg, images (2048-d vectors); image_folder
    [model]     name ("fusion" | "contextnet"), inputs, context, trunk, backbone, weights, sizes
    [loss]      lambda_c, lambda_e, task_weights (by task label or IRI; default equal)
    [optimizer] name (any torch.optim class), lr, weight_decay, momentum, options
    [training]  epochs, patience, batch_size, threads
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path

import tomli_w

from heritage_kg.errors import ConfigError


class Trunk(StrEnum):
    FROZEN = "frozen"    # precomputed 2048-d image vectors (`embed images`); a CPU can run it
    TRAINED = "trained"  # the whole network, trunk included, on the fetched images (the method's way)


FUSION_INPUTS = ("image", "text", "kg", "medium", "artist", "group", "period", "words")
CONTEXT_INPUTS = ("text", "kg")


@dataclass
class DataConfig:
    dataset: str = ""                 # a dataset name (under the datasets folder) or its folder
    text: str | None = None           # feature table folders, as `heritage-kg embed` writes them
    kg: str | None = None
    images: str | None = None         # 2048-d image vectors (`embed images`)
    image_folder: str | None = None   # fetched image files (`fetch-images`), for trunk = "trained"
    image_size: int = 224


@dataclass
class ModelConfig:
    name: str = "fusion"
    inputs: list[str] = field(default_factory=lambda: ["text", "kg", "medium", "artist"])  # fusion
    hidden: int = 256
    dropout: float = 0.2
    modality_dropout: float = 0.2
    wide: bool = False                # fusion: a linear path from words, identities and medium to the logits
    context: list[str] = field(default_factory=lambda: ["text", "kg"])  # contextnet's encoder target
    trunk: Trunk = Trunk.FROZEN
    backbone: str = "resnet50"        # for trunk = "trained"
    weights: str = "imagenet"         # a state-dict file, imagenet, imagenet1k-v1|v2, or none


@dataclass
class LossConfig:
    lambda_c: float = 0.9
    lambda_e: float = 0.1
    task_weights: dict[str, float] = field(default_factory=dict)


@dataclass
class OptimizerConfig:
    name: str = "SGD"
    lr: float = 1e-4
    weight_decay: float = 1e-5
    momentum: float = 0.9             # passed to optimizers that take it
    options: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainingConfig:
    epochs: int = 150
    patience: int = 30
    batch_size: int = 32
    threads: int = 0                  # torch threads; 0: torch's own choice


@dataclass
class RunConfig:
    name: str = ""
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self):
        _check_values(self)

    @classmethod
    def load(cls, path: Path) -> RunConfig:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the config {path}: {exc.strerror}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(data, where=str(path))

    @classmethod
    def from_dict(cls, data: dict, where: str = "config") -> RunConfig:
        return _build(cls, data, where, "")

    def to_dict(self) -> dict:
        return _drop_none(asdict(self))

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def save(self, path: Path) -> Path:
        path.write_text(self.to_toml(), encoding="utf-8")
        return path

    @property
    def sha256(self) -> str:
        """The SHA-256 of the config as canonical JSON: what the model registry records."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    @property
    def digest(self) -> str:
        """What a run's checkpoint is checked against before resuming (the sha256's first 16 digits)."""
        return self.sha256[:16]


def _drop_none(value):
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def _build(cls, data, where: str, section: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {section} must be a table, not {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        # Dotted names, not [section]: the console would read brackets as markup.
        key = f"{section}.{unknown[0]}" if section else unknown[0]
        raise ConfigError(f"{where}: unknown key {key!r}; the keys there are {', '.join(known)}")
    values = {}
    for name, spec in known.items():
        if name not in data:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise ConfigError(f"{where}: {section + '.' if section else ''}{name} is required")
            continue
        key = f"{section}.{name}" if section else name
        values[name] = _coerce(hints[name], data[name], where, key)
    return cls(**values)


# TOML scalars by the type a field declares: what passes, and how to say what was expected.
# A bool is an int to Python, never to a config.
_SCALARS = {
    bool: (lambda v: isinstance(v, bool), "true or false"),
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    float: (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    str: (lambda v: isinstance(v, str), "a string"),
}


def _coerce(hint, value, where: str, key: str):
    def wrong(expected: str):
        return ConfigError(f"{where}: {key} must be {expected}, not {value!r} ({type(value).__name__})")

    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _build(hint, value, where, key)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, where, key)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        if value not in {member.value for member in hint}:
            raise wrong("one of " + ", ".join(repr(m.value) for m in hint))
        return hint(value)
    if hint in _SCALARS:
        accepts, expected = _SCALARS[hint]
        if not accepts(value):
            raise wrong(expected)
        return hint(value)
    if origin is list:
        if not isinstance(value, list):
            raise wrong("a list")
        return [_coerce(args[0], item, where, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise wrong("a table")
        return {str(k): _coerce(args[1], v, where, f"{key}.{k}") for k, v in value.items()}
    raise ConfigError(f"{where}: {key} has a type the config cannot read ({hint})")  # a bug, said plainly


def _check_values(config: RunConfig) -> None:
    """Ranges and closed sets, once the types are right."""
    def require(ok: bool, message: str):
        if not ok:
            raise ConfigError(f"config: {message}")

    require(bool(config.name) and "/" not in config.name and not config.name.startswith("."),
            f"name must be a plain folder name, not {config.name!r}")
    require(bool(config.data.dataset), "data.dataset is required (a dataset name or folder)")
    require(config.training.epochs >= 1, f"training.epochs must be at least 1, not {config.training.epochs}")
    require(config.training.patience >= 1, f"training.patience must be at least 1, not {config.training.patience}")
    require(config.training.batch_size >= 1, f"training.batch_size must be at least 1, not {config.training.batch_size}")
    require(config.training.threads >= 0, f"training.threads must be 0 or more, not {config.training.threads}")
    require(config.optimizer.lr > 0, f"optimizer.lr must be positive, not {config.optimizer.lr}")
    require(0 <= config.model.dropout < 1, f"model.dropout must be in [0, 1), not {config.model.dropout}")
    require(0 <= config.model.modality_dropout < 1,
            f"model.modality_dropout must be in [0, 1), not {config.model.modality_dropout}")
    require(config.model.hidden >= 1, f"model.hidden must be at least 1, not {config.model.hidden}")
    require(config.data.image_size >= 16, f"data.image_size must be at least 16, not {config.data.image_size}")
    for name in config.model.inputs:
        require(name in FUSION_INPUTS, f"model.inputs: no input {name!r}; the inputs are {', '.join(FUSION_INPUTS)}")
    require(bool(config.model.inputs), "model.inputs must name at least one input")
    for name in config.model.context:
        require(name in CONTEXT_INPUTS, f"model.context: no context {name!r}; the contexts are {', '.join(CONTEXT_INPUTS)}")
    require(config.loss.lambda_c >= 0 and config.loss.lambda_e >= 0, "loss.lambda_c and loss.lambda_e must be >= 0")
    require(all(w >= 0 for w in config.loss.task_weights.values()), "loss.task_weights must be >= 0")
