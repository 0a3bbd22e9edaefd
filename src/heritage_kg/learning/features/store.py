"""How feature vectors are kept on disk, for every kind of feature alike.

A `FeatureTable` is a folder: `vectors.npy` (float32, one row per key), `keys.txt` (one IRI per
line, row order) and `meta.json` (a `FeatureMeta`: what produced them: kind, dataset, model,
dimension, and what that kind records besides). An
`EmbeddingCache` remembers single vectors by (model id, input) in SQLite, so that a second run
over the same inputs costs nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from heritage_kg.learning.artefacts import JsonArtefact

if TYPE_CHECKING:  # numpy loads where it is used
    import numpy as np


class FeatureKind(StrEnum):
    TEXT = "text"
    IMAGES = "images"
    KG = "kg"


@dataclass
class FeatureMeta(JsonArtefact):
    """What produced a feature table: `meta.json` beside its vectors."""

    FILE: ClassVar[str] = "meta.json"

    kind: FeatureKind
    dataset: str  # the dataset whose artworks (or artists) the vectors are for
    model: str  # the model (or file) that produced the vectors
    dim: int
    details: dict = field(default_factory=dict)  # what this kind records besides: recipe, metrics, coverage

    @classmethod
    def from_dict(cls, data: dict, folder: Path) -> FeatureMeta:
        return cls(**{**data, "kind": FeatureKind(data["kind"])})


@dataclass
class FeatureTable:
    keys: list[str]
    vectors: np.ndarray  # shape (len(keys), dim), float32
    meta: FeatureMeta

    def __post_init__(self):
        import numpy as np

        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.keys):
            raise ValueError(f"{len(self.keys)} keys but vectors of shape {self.vectors.shape}")
        self._row = {key: i for i, key in enumerate(self.keys)}

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def get(self, key: str) -> np.ndarray | None:
        """The vector of `key`, or None: a missing key is masked, never made up."""
        row = self._row.get(key)
        return None if row is None else self.vectors[row]

    def save(self, folder: Path) -> Path:
        import numpy as np

        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "vectors.npy", self.vectors)
        (folder / "keys.txt").write_text("".join(k + "\n" for k in self.keys), encoding="utf-8")
        self.meta.save(folder)
        return folder

    @classmethod
    def load(cls, folder: Path) -> FeatureTable:
        import numpy as np

        keys = (folder / "keys.txt").read_text(encoding="utf-8").splitlines()
        return cls(keys, np.load(folder / "vectors.npy"), FeatureMeta.load(folder))


class EmbeddingCache:
    """Vectors by (model id, input) in one SQLite file; safe to share between runs."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, dim INTEGER, vector BLOB, "
                         "PRIMARY KEY (model, key))")

    @staticmethod
    def _key(item: str | bytes) -> str:
        return hashlib.sha256(item.encode("utf-8") if isinstance(item, str) else item).hexdigest()

    def get_many(self, model: str, items: list[str | bytes]) -> list[np.ndarray | None]:
        import numpy as np

        keys = [self._key(item) for item in items]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, vector in self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})", [model, *chunk]):
                found[key] = np.frombuffer(vector, dtype=np.float32)
        return [found.get(key) for key in keys]

    def put_many(self, model: str, items: list[str | bytes], vectors: np.ndarray) -> None:
        import numpy as np

        vectors = np.asarray(vectors, dtype=np.float32)
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                                 [(model, self._key(item), vectors.shape[1], vector.tobytes())
                                  for item, vector in zip(items, vectors, strict=True)])

    def close(self) -> None:
        self._db.close()
