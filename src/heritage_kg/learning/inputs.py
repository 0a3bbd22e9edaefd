"""A dataset's artworks as tensors, built once before training: feature vectors looked up by key
with a presence mask per input, medium groups as multi-hot rows, artist identities as ids, raw
images decoded once to uint8, and the label targets. No epoch re-encodes a title or an image.

Knowledge-graph vectors enter through artists only: an artwork's KG input is the mean of its
artists' vectors, never the artwork's own vector (the KG table holds vectors for the held-out
artworks too), and they must have been trained for this very dataset, whose held-out subject
annotations were left out of the graph they learnt from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from heritage_kg.errors import TrainingError
from heritage_kg.learning.datasets import SPLITS, TrainingSet
from heritage_kg.learning.features.images import IMAGENET_MEAN, IMAGENET_STD, decode_rgb
from heritage_kg.learning.features.store import FeatureTable
from heritage_kg.learning.images import ImageCache

FEATURE_HINTS = {
    "text": "heritage-kg embed text --dataset {dataset}",
    "kg": "heritage-kg embed kg --dataset {dataset}",
    "images": "heritage-kg embed images --dataset {dataset}",
}


@dataclass(frozen=True)
class FeatureOrigin:
    """What a feature table says about where it came from (read from its meta in one place)."""

    kind: str | None
    dataset: str | None
    trained_on_store: bool  # vectors learnt from the store's graph (PyKEEN), so split-sensitive


def feature_origin(table: FeatureTable) -> FeatureOrigin:
    meta = table.meta
    return FeatureOrigin(meta.kind, meta.dataset, meta.details.get("source") == "pykeen")


def load_features(folder: str | Path | None, kind: str, dataset: str) -> FeatureTable:
    """The feature table in `folder`, or a TrainingError saying how to make it."""
    hint = FEATURE_HINTS.get(kind, "heritage-kg embed").format(dataset=dataset)
    if folder is None:
        raise TrainingError(f"the model reads {kind} features but the config names no data.{kind} folder; "
                            f"make them with '{hint}' and set data.{kind} to the folder it prints")
    folder = Path(folder)
    if not all((folder / name).is_file() for name in ("vectors.npy", "keys.txt", "meta.json")):
        raise TrainingError(f"no {kind} feature table in {folder} (it needs vectors.npy, keys.txt and meta.json); "
                            f"make one with '{hint}'")
    return FeatureTable.load(folder)


def check_kg_is_leak_free(table: FeatureTable, training_set: TrainingSet) -> None:
    """KG vectors learnt from the store are leak-free only for the dataset whose train split they
    were trained on: another dataset (another level, another seed) holds out other artworks, whose
    subjects those vectors have seen. Outside vectors (a word2vec file) saw no label of ours."""
    origin = feature_origin(table)
    # A medium subset holds out exactly its all-media dataset's held-out artworks (of its media).
    if origin.trained_on_store and origin.dataset not in (training_set.name, training_set.manifest.split_of):
        raise TrainingError(
            f"the KG vectors were trained for dataset {origin.dataset!r}, not {training_set.name!r}: their graph kept the "
            f"subject annotations of artworks that {training_set.name!r} holds out, so they would leak test labels; "
            f"train vectors for this dataset with 'heritage-kg embed kg --dataset {training_set.name}'")


@dataclass
class Vocabularies:
    """The discrete inputs' vocabularies, kept with a model so a prediction encodes alike."""

    medium_groups: list[str] = field(default_factory=list)
    artists: list[str] = field(default_factory=list)  # the train split's; id = 1 + position, 0 unknown

    def to_dict(self) -> dict:
        return {"medium_groups": self.medium_groups, "artists": self.artists}

    @classmethod
    def from_dict(cls, data: dict) -> Vocabularies:
        return cls(list(data.get("medium_groups", [])), list(data.get("artists", [])))


@dataclass
class SplitInputs:
    """One split's tensors, row-aligned with `artworks`: for each input `x`, `x` and `x_mask`."""

    artworks: list[str]
    tensors: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return len(self.artworks)

    def batch(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        batch = {name: tensor.index_select(0, rows) for name, tensor in self.tensors.items()}
        if "image" in batch and batch["image"].dtype == torch.uint8:  # decoded pixels: normalised per batch
            batch["image"] = normalise_pixels(batch["image"])
        return batch


_MEAN = torch.from_numpy(IMAGENET_MEAN)[None, :, None, None]
_STD = torch.from_numpy(IMAGENET_STD)[None, :, None, None]


def normalise_pixels(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels.to(torch.float32) / 255.0 - _MEAN) / _STD


def vectors_by_key(table: FeatureTable, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row i: the vector of keys[i], or zeros and a false mask when the table lacks it."""
    out = np.zeros((len(keys), table.dim), dtype=np.float32)
    mask = np.zeros(len(keys), dtype=bool)
    for i, key in enumerate(keys):
        vector = table.get(key)
        if vector is not None:
            out[i], mask[i] = vector, True
    return out, mask


def artist_vectors(table: FeatureTable, artists: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Row i: the mean of the vectors of artwork i's artists that have one (masked if none).
    Only artist IRIs are looked up: the artwork's own vector is never read."""
    out = np.zeros((len(artists), table.dim), dtype=np.float32)
    mask = np.zeros(len(artists), dtype=bool)
    for i, listed in enumerate(artists):
        found = [v for v in (table.get(a) for a in listed or ()) if v is not None]
        if found:
            out[i], mask[i] = np.mean(found, axis=0), True
    return out, mask


def input_columns(names: list[str], *, artworks: list[str], artists: list[list[str]], media: list[list[str]],
                  vocabularies: Vocabularies, features: dict[str, FeatureTable],
                  given: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                  ) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The columns of the named model inputs (image, text, kg, medium, artist), each `x` with its
    presence mask `x_mask`, row-aligned with `artworks`, and each input's width (0 for the artist
    ids). Vectors are looked up in `features` by kind (text and image by artwork, KG by artist),
    unless `given` holds that input already computed, as (rows, mask): decoded pixels, or the
    vectors of artworks no table holds (a prediction's)."""
    given = given or {}
    columns: dict[str, np.ndarray] = {}
    dims: dict[str, int] = {}
    for name in dict.fromkeys(names):
        if name in given:
            columns[name], columns[f"{name}_mask"] = given[name]
        elif name == "text":
            columns["text"], columns["text_mask"] = vectors_by_key(features["text"], artworks)
        elif name == "kg":
            columns["kg"], columns["kg_mask"] = artist_vectors(features["kg"], artists)
        elif name == "image":
            columns["image"], columns["image_mask"] = vectors_by_key(features["images"], artworks)
        elif name == "medium":
            index = {g: j for j, g in enumerate(vocabularies.medium_groups)}
            columns["medium"] = np.zeros((len(artworks), len(index)), dtype=np.float32)
            for i, groups in enumerate(media):
                columns["medium"][i, [index[g] for g in groups if g in index]] = 1.0
            columns["medium_mask"] = columns["medium"].any(axis=1)
        elif name == "artist":
            ids = {a: j + 1 for j, a in enumerate(vocabularies.artists)}
            columns["artist"] = np.array([next((ids[a] for a in sorted(listed) if a in ids), 0) for listed in artists],
                                         dtype=np.int64)
        else:
            raise TrainingError(f"no model input called {name!r}")
        dims[name] = 0 if name == "artist" else int(np.prod(columns[name].shape[1:]))
    return columns, dims


def as_tensors(artworks: list[str], columns: dict[str, np.ndarray]) -> SplitInputs:
    return SplitInputs(list(artworks), {name: torch.from_numpy(np.ascontiguousarray(column))
                                        for name, column in columns.items()})


@dataclass
class AssembledInputs:
    splits: dict[str, SplitInputs]
    dims: dict[str, int]              # per input, its width (0 for the artist ids)
    vocabularies: Vocabularies
    left_out: dict[str, int]          # per split, rows dropped for want of a required input


def assemble_inputs(training_set: TrainingSet, inputs: list[str], context: list[str], *,
                    features: dict[str, FeatureTable], image_folder: Path | None = None, image_size: int = 224,
                    required: str | None = None, vocabularies: Vocabularies | None = None) -> AssembledInputs:
    """The tensors of every split for the named `inputs` (image, text, kg, medium, artist) and
    `context` inputs. `features` holds the loaded tables by kind (text, kg, images); with
    `image_folder` the image input is decoded pixels instead of vectors. Rows lacking the
    `required` input (the image, for a visual model) are left out."""
    if "kg" in features:
        check_kg_is_leak_free(features["kg"], training_set)
    table = training_set.table
    artworks = table.column("artwork").to_pylist()
    artists = [list(a or ()) for a in table.column("artists").to_pylist()]
    media = [list(m or ()) for m in table.column("medium_groups").to_pylist()]
    splits = table.column("split").to_pylist()
    if vocabularies is None:
        vocabularies = Vocabularies(
            sorted({g for groups in media for g in groups}),
            sorted({a for listed, split in zip(artists, splits, strict=True) if split == "train" for a in listed}))

    # Decoded pixels, when the model reads the images themselves, are the one input no table holds.
    given = {"image": decode_cached_images(table.column("image_url").to_pylist(), ImageCache(image_folder), image_size)} \
        if image_folder is not None and "image" in [*inputs, *context] else {}
    columns, dims = input_columns([*inputs, *context], artworks=artworks, artists=artists, media=media,
                                  vocabularies=vocabularies, features=features, given=given)
    columns["targets"] = training_set.label_matrix().astype(np.float32)

    result, left_out = {}, {}
    split_array = np.array(splits)
    for split in SPLITS:
        rows = split_array == split
        if required is not None:
            left_out[split] = int((rows & ~columns[f"{required}_mask"]).sum())
            rows &= columns[f"{required}_mask"]
        index = np.flatnonzero(rows)
        result[split] = as_tensors([artworks[i] for i in index], {name: col[index] for name, col in columns.items()})
    return AssembledInputs(result, dims, vocabularies, left_out)


def decode_cached_images(urls: list[str | None], cache: ImageCache, size: int) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.zeros((len(urls), 3, size, size), dtype=np.uint8)
    mask = np.zeros(len(urls), dtype=bool)
    for i, url in enumerate(urls):
        path = cache.find(url) if url else None
        if path is None:
            continue
        try:
            pixels[i], mask[i] = decode_rgb(path.read_bytes(), size), True
        except (OSError, ValueError, Image.DecompressionBombError):
            continue  # an unreadable file is a missing image: that row is masked
    return pixels, mask
