"""Typed files of the learning stage: a dataclass kept as one JSON file in its folder (a
dataset's manifest, a feature table's meta), saved and loaded as PyKEEN keeps its results."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar, Self


class JsonArtefact:
    """Mixin for a dataclass kept as `folder / FILE`; `from_dict` rebuilds nested fields."""

    FILE: ClassVar[str]

    def save(self, folder: Path) -> Path:
        path = Path(folder) / self.FILE
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> Self:
        return cls.from_dict(json.loads((Path(folder) / cls.FILE).read_text(encoding="utf-8")), Path(folder))

    @classmethod
    def from_dict(cls, data: dict, folder: Path) -> Self:
        return cls(**data)
