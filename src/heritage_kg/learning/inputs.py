"""A dataset's artworks as tensors, built once before training: feature vectors looked up by key
with a presence mask per input, medium groups as multi-hot rows, identities (the artist, the
catalogue group, the period) and title words as vocabulary ids, raw images decoded once to uint8,
and the label targets. No epoch re-encodes a title or an image.

Knowledge-graph vectors enter through artists only: an artwork's KG input is the mean of its
artists' vectors, never the artwork's own vector (the KG table holds vectors for the held-out
artworks too), and they must have been trained for this very dataset, whose held-out subject
annotations were left out of the graph they learnt from."""

from __future__ import annotations

import re
from collections import Counter
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


_WORD = re.compile(r"\w+")
TITLE_TERMS = 48        # a title's first terms kept as the `words` input (Tate titles: 99.9% have fewer)
MIN_WORD_COUNT = 2      # a term enters the vocabulary when this many training titles use it


def title_words(title: str | None) -> list[str]:
    """A title's words, lower-cased: the TF-IDF baseline's tokens."""
    return _WORD.findall((title or "").lower())


def title_terms(title: str | None) -> list[str]:
    """A title's words and word pairs ("still life", "view of"): the `words` input's terms."""
    words = title_words(title)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def period_of(year: int | None) -> int | None:
    """The decade an artwork's start year falls in (1837 -> 1830): the `period` input's value."""
    return None if year is None else year // 10 * 10


def _periods(years: list[int | None]) -> list[list[int]]:
    """Each row's period as a one-value list (none for an undated row), as identities are read."""
    return [[period_of(year)] if year is not None else [] for year in years]


@dataclass
class Vocabularies:
    """The discrete inputs' vocabularies, kept with a model so a prediction encodes alike. Each
    identity vocabulary is the train split's; an id is 1 + position, 0 unknown."""

    medium_groups: list[str] = field(default_factory=list)
    artists: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)    # the train split's title terms
    catalogue_groups: list[str] = field(default_factory=list)
    periods: list[int] = field(default_factory=list)  # decades (period_of)

    def to_dict(self) -> dict:
        return {"medium_groups": self.medium_groups, "artists": self.artists, "words": self.words,
                "catalogue_groups": self.catalogue_groups, "periods": self.periods}

    @classmethod
    def from_dict(cls, data: dict) -> Vocabularies:
        return cls(*(list(data.get(name, [])) for name in
                     ("medium_groups", "artists", "words", "catalogue_groups", "periods")))

    def identity(self, name: str) -> list:
        """The vocabulary of an identity input (artist, group, period)."""
        return {"artist": self.artists, "group": self.catalogue_groups, "period": self.periods}[name]

    def word_ids(self, titles: list[str | None]) -> np.ndarray:
        """(rows, TITLE_TERMS) ids of each title's known terms, 0-padded (0 also: no known term)."""
        index = {w: j + 1 for j, w in enumerate(self.words)}
        out = np.zeros((len(titles), TITLE_TERMS), dtype=np.int64)
        for i, title in enumerate(titles):
            known = [index[w] for w in title_terms(title) if w in index][:TITLE_TERMS]
            out[i, :len(known)] = known
        return out


def training_words(titles: list[str | None]) -> list[str]:
    """The title terms of the training titles used at least MIN_WORD_COUNT times, sorted."""
    counts = Counter(w for title in titles for w in set(title_terms(title)))
    return sorted(w for w, n in counts.items() if n >= MIN_WORD_COUNT)


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


IDENTITY_INPUTS = ("artist", "group", "period")  # one vocabulary id per row, 0 unknown
ID_INPUTS = (*IDENTITY_INPUTS, "words")  # inputs given as vocabulary ids rather than vectors


def _first_known(values: list, vocabulary: list) -> np.ndarray:
    """Per row, the id of its first value (in sorted order) that `vocabulary` holds, else 0."""
    ids = {value: j + 1 for j, value in enumerate(vocabulary)}
    return np.array([next((ids[v] for v in sorted(row) if v in ids), 0) for row in values], dtype=np.int64)


def input_columns(names: list[str], *, artworks: list[str], artists: list[list[str]], media: list[list[str]],
                  titles: list[str | None], vocabularies: Vocabularies, features: dict[str, FeatureTable],
                  catalogue_groups: list[list[str]] | None = None, years: list[int | None] | None = None,
                  given: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                  ) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The columns of the named model inputs (image, text, kg, medium, artist, group, period,
    words), each `x` with its presence mask `x_mask` (an identity's: a known id), row-aligned with
    `artworks`, and each input's width (0 for the id inputs). Vectors are looked up in `features`
    by kind (text and image by artwork, KG by artist), unless `given` holds that input already
    computed, as (rows, mask): decoded pixels, or the vectors of artworks no table holds (a
    prediction's). `catalogue_groups` and `years` are needed only by the group and period inputs."""
    given = given or {}
    for name, values, what in (("group", catalogue_groups, "catalogue groups"), ("period", years, "start year")):
        if name in names and values is None:
            raise TrainingError(f"the {name} input needs each artwork's {what}, which were not given")
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
        elif name in IDENTITY_INPUTS:
            values = artists if name == "artist" else catalogue_groups if name == "group" else _periods(years)
            columns[name] = _first_known(values, vocabularies.identity(name))
            columns[f"{name}_mask"] = columns[name] > 0
        elif name == "words":
            columns["words"] = vocabularies.word_ids(titles)
            columns["words_mask"] = columns["words"].any(axis=1)
        else:
            raise TrainingError(f"no model input called {name!r}")
        dims[name] = 0 if name in ID_INPUTS else int(np.prod(columns[name].shape[1:]))
    return columns, dims


def as_tensors(artworks: list[str], columns: dict[str, np.ndarray]) -> SplitInputs:
    return SplitInputs(list(artworks), {name: torch.from_numpy(np.ascontiguousarray(column))
                                        for name, column in columns.items()})


@dataclass
class AssembledInputs:
    splits: dict[str, SplitInputs]
    dims: dict[str, int]              # per input, its width (0 for the id inputs)
    vocabularies: Vocabularies
    left_out: dict[str, int]          # per split, rows dropped for want of a required input


def assemble_inputs(training_set: TrainingSet, inputs: list[str], context: list[str], *,
                    features: dict[str, FeatureTable], image_folder: Path | None = None, image_size: int = 224,
                    required: str | None = None, vocabularies: Vocabularies | None = None) -> AssembledInputs:
    """The tensors of every split for the named `inputs` (image, text, kg, medium, artist, group,
    period, words) and `context` inputs. `features` holds the loaded tables by kind (text, kg, images); with
    `image_folder` the image input is decoded pixels instead of vectors. Rows lacking the
    `required` input (the image, for a visual model) are left out."""
    if "kg" in features:
        check_kg_is_leak_free(features["kg"], training_set)
    table = training_set.table
    artworks = table.column("artwork").to_pylist()
    artists = [list(a or ()) for a in table.column("artists").to_pylist()]
    media = [list(m or ()) for m in table.column("medium_groups").to_pylist()]
    splits = table.column("split").to_pylist()
    titles = table.column("title").to_pylist()
    wanted = [*inputs, *context]
    for name, column in (("group", "catalogue_groups"), ("period", "year")):
        if name in wanted and column not in table.column_names:
            raise TrainingError(f"dataset {training_set.name} has no {column} column, which the {name} input reads: "
                                "it was built before that column existed; rebuild it with 'heritage-kg dataset build'")
    catalogue_groups = [list(g or ()) for g in table.column("catalogue_groups").to_pylist()] \
        if "catalogue_groups" in table.column_names else None
    years = table.column("year").to_pylist() if "year" in table.column_names else None
    if vocabularies is None:
        def in_train(values):
            return sorted({v for row, split in zip(values, splits, strict=True) if split == "train" for v in row})
        vocabularies = Vocabularies(
            sorted({g for groups in media for g in groups}),
            in_train(artists),
            training_words([t for t, split in zip(titles, splits, strict=True) if split == "train"]),
            in_train(catalogue_groups) if catalogue_groups is not None else [],
            in_train(_periods(years)) if years is not None else [])

    # Decoded pixels, when the model reads the images themselves, are the one input no table holds.
    given = {"image": decode_cached_images(table.column("image_url").to_pylist(), ImageCache(image_folder), image_size)} \
        if image_folder is not None and "image" in wanted else {}
    columns, dims = input_columns(wanted, artworks=artworks, artists=artists, media=media, titles=titles,
                                  vocabularies=vocabularies, features=features, catalogue_groups=catalogue_groups,
                                  years=years, given=given)
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
