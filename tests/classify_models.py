"""Small classifiers trained in seconds for the classification tests and benchmark, over the
synthetic training set of classifier_data.py, with real encoders: titles through the packaged
MiniLM (so a request's title is encoded as the training titles were) and images through the
ResNet-50 trunk with its seeded random weights.

    meta    fusion over title, artist KG vector, medium and artist identity (no image)
    visual  the visual model: a tiny trunk over the pixels themselves (image only)
    both    fusion over the ResNet-50 image vector, the title and the medium
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from classifier_data import BASE, synthetic_rows, write_images, write_kg_features, write_training_set

from heritage_kg.learning.features.images import embed_images
from heritage_kg.learning.features.text import embed_titles
from heritage_kg.learning.images import ImageCache
from heritage_kg.learning.run_config import RunConfig
from heritage_kg.learning.training import train

SYNTHETIC_BASE = BASE  # the base IRI the synthetic medium groups were minted under
IMAGE_SIZE = 32        # the visual model's input size (the synthetic images' own)


@dataclass
class SyntheticClassifiers:
    root: Path
    rows: list[dict]
    dataset: Path
    images: Path          # an ImageCache folder: one PNG per row, under its image URL
    text: Path            # the title vectors (a FeatureTable folder)
    image_vectors: Path
    models: Path          # the models folder: meta, visual, both

    def image_of(self, row: dict) -> Path:
        return ImageCache(self.images).find(row["image_url"])


def train_run(models: Path, name: str, dataset: Path, model: dict, data: dict, epochs: int = 4) -> Path:
    config = RunConfig.from_dict({
        "name": name, "seed": 0, "data": {"dataset": str(dataset), **data}, "model": model,
        "optimizer": {"name": "Adam", "lr": 0.01, "weight_decay": 0.0},
        "training": {"epochs": epochs, "patience": epochs, "batch_size": 32}})
    return train(config, models_dir=models).folder


def synthetic_classifiers(root: Path, count: int = 120) -> SyntheticClassifiers:
    rows = synthetic_rows(count)
    dataset = write_training_set(root / "datasets" / "synthetic", rows)
    images = write_images(root / "images", rows, size=IMAGE_SIZE)
    artworks = [row["artwork"] for row in rows]
    features = root / "features"
    text = embed_titles(artworks, [row["title"] for row in rows], dataset="synthetic", features_dir=features).folder
    # One row in five has an image vector (every validation row among them): the others are masked,
    # as artworks without a fetched image are, and the ResNet-50 trunk runs on CPU in seconds.
    image_vectors = embed_images(artworks, [row["image_url"] if i % 5 == 0 else None for i, row in enumerate(rows)],
                                 dataset="synthetic", images=ImageCache(images), features_dir=features,
                                 weights="none").folder
    kg = write_kg_features(root / "kg", rows, dataset="synthetic")
    models = root / "models"
    train_run(models, "meta", dataset, {"name": "fusion", "inputs": ["text", "kg", "medium", "artist"], "hidden": 16},
              {"text": str(text), "kg": str(kg)})
    train_run(models, "visual", dataset, {"name": "contextnet", "trunk": "trained", "backbone": "tiny",
                                          "weights": "none", "context": []},
              {"image_folder": str(images), "image_size": IMAGE_SIZE})
    train_run(models, "both", dataset, {"name": "fusion", "inputs": ["image", "text", "medium"], "hidden": 16},
              {"text": str(text), "images": str(image_vectors)})
    return SyntheticClassifiers(root, rows, dataset, images, text, image_vectors, models)
