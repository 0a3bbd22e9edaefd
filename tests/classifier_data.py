"""Synthetic training sets for the classifier tests, written in the dataset folder layout that
`open_dataset` reads (table.parquet + manifest.json), with images and feature tables to match.

The taxonomy: task "colour" with two level-2 labels, red and blue (under the level-1 concept
"hue"), and task "form" with one label, "bar". An artwork is red when its image is reddish and
blue when bluish (possibly both), and has a bar when its image has a white horizontal band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from heritage_kg.learning.datasets import DatasetManifest, LabelEntry, table_schema
from heritage_kg.learning.features.store import FeatureKind, FeatureMeta, FeatureTable
from heritage_kg.learning.images import ImageCache

BASE = "https://example.org/"
COLOUR, FORM, HUE = BASE + "subject/colour", BASE + "subject/form", BASE + "subject/hue"
RED, BLUE, BAR = BASE + "subject/red", BASE + "subject/blue", BASE + "subject/bar"
LABELS = [(RED, "red", COLOUR, HUE), (BLUE, "blue", COLOUR, HUE), (BAR, "bar", FORM, FORM)]
PAINTING, PRINT = BASE + "medium/painting", BASE + "medium/print"


def artwork(i: int) -> str:
    return f"{BASE}artwork/{i:04d}"


def artist(i: int) -> str:
    return f"{BASE}artist/{i:03d}"


def synthetic_rows(count: int, seed: int = 0) -> list[dict]:
    """Rows with random labels; one artwork in ten in validation and in test, the rest train."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        red, blue, bar = rng.random(3) < (0.45, 0.35, 0.4)
        labels = [iri for iri, on in ((RED, red), (BLUE, blue), (BAR, bar)) if on]
        tasks = [task for task, on in ((COLOUR, red or blue), (FORM, bar)) if on]
        split = "validation" if i % 10 == 0 else "test" if i % 10 == 1 else "train"
        rows.append({"artwork": artwork(i), "split": split, "labels": labels, "tasks": tasks,
                     "title": f"artwork number {i}", "artists": [artist(i % 20)],
                     "medium_groups": [PAINTING if red else PRINT], "image_url": f"{BASE}image/{i}.png"})
    return rows


def write_training_set(folder: Path, rows: list[dict], name: str | None = None, split_of: str | None = None) -> Path:
    """A dataset folder holding `rows`, with the manifest fields the classifier reads (`split_of`:
    the all-media dataset a medium subset shares its split with)."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=table_schema()), folder / "table.parquet")
    split_sizes = {split: sum(row["split"] == split for row in rows) for split in ("train", "validation", "test")}
    DatasetManifest(
        name=name or folder.name, version="synthetic", created="synthetic", parameters={},
        tasks={COLOUR: "colour", FORM: "form"}, media={}, population="synthetic", queries={}, source={},
        artworks=len(rows), splits=split_sizes, split_of=split_of,
        labels=[LabelEntry(iri, label, task, task.rsplit("/", 1)[-1], 2 if broader != task else 1, broader,
                           broader.rsplit("/", 1)[-1], {"total": sum(iri in row["labels"] for row in rows)})
                for iri, label, task, broader in LABELS],
    ).save(folder)
    return folder


def write_images(folder: Path, rows: list[dict], size: int = 32, seed: int = 0) -> Path:
    """One PNG per row, in an ImageCache folder under the row's image URL: noise, plus a red or
    blue cast for those labels and a white band for `bar`."""
    rng = np.random.default_rng(seed)
    cache = ImageCache(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        pixels = rng.integers(0, 120, size=(size, size, 3)).astype(np.int16)
        if RED in row["labels"]:
            pixels[..., 0] += 120
        if BLUE in row["labels"]:
            pixels[..., 2] += 120
        if BAR in row["labels"]:
            pixels[size // 2 - 3:size // 2 + 3, :, :] = 255
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / (cache.stem(row["image_url"]) + ".png"))
    return folder


def label_signal(rows: list[dict], dim: int, seed: int, noise: float = 0.5) -> np.ndarray:
    """Per row, a vector that carries its labels (random directions per label) plus noise."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(len(LABELS), dim))
    targets = np.array([[iri in row["labels"] for iri, *_ in LABELS] for row in rows], dtype=np.float32)
    return (targets @ directions + noise * rng.normal(size=(len(rows), dim))).astype(np.float32)


def write_text_features(folder: Path, rows: list[dict], dim: int = 16, seed: int = 1) -> Path:
    """Title vectors keyed by artwork IRI that carry the labels, as `embed text` keys them."""
    return FeatureTable([r["artwork"] for r in rows], label_signal(rows, dim, seed),
                        FeatureMeta(FeatureKind.TEXT, "synthetic", "synthetic", dim)).save(folder)


def write_kg_features(folder: Path, rows: list[dict], dataset: str, dim: int = 8, seed: int = 2,
                      artwork_vectors: np.ndarray | None = None) -> Path:
    """PyKEEN-style KG vectors for every artist (random) and, like the real ones, for every
    artwork (here `artwork_vectors`, or random), recorded as trained for `dataset`."""
    rng = np.random.default_rng(seed)
    artists = sorted({a for r in rows for a in r["artists"]})
    keys = artists + [r["artwork"] for r in rows]
    vectors = np.concatenate([rng.normal(size=(len(artists), dim)),
                              artwork_vectors if artwork_vectors is not None else rng.normal(size=(len(rows), dim))])
    return FeatureTable(keys, vectors, FeatureMeta(FeatureKind.KG, dataset, "TransE", dim,
                                                          {"source": "pykeen"})).save(folder)


def write_image_features(folder: Path, rows: list[dict], dim: int = 2048, seed: int = 3) -> Path:
    """Stand-ins for `embed images` vectors (2048-d) that carry the labels."""
    return FeatureTable([r["artwork"] for r in rows], label_signal(rows, dim, seed),
                        FeatureMeta(FeatureKind.IMAGES, "synthetic", "synthetic", dim)).save(folder)
