"""`heritage-kg embed ...`: feature vectors for the classifier (text, kg, images)."""

from __future__ import annotations

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import console, progress_bars, reports_errors
from heritage_kg.config import get_settings
from heritage_kg.learning.datasets import open_dataset
from heritage_kg.learning.features.images import DEFAULT_WEIGHTS, embed_images
from heritage_kg.learning.features.text import DEFAULT_TEXT_ENCODER, embed_titles
from heritage_kg.learning.images import ImageCache

embed_app = typer.Typer(help="Compute feature vectors (text, kg, images) for a dataset's artworks.",
                        no_args_is_help=True)
app.add_typer(embed_app, name="embed")


def dataset_columns(dataset: str, *columns: str) -> tuple[str, list[list]]:
    """The dataset's name and the listed columns of its table, as Python lists."""
    training_set = open_dataset(dataset)
    return training_set.name, [training_set.table.column(column).to_pylist() for column in columns]


@embed_app.command("text")
@reports_errors
def embed_text_command(
    dataset: str = typer.Option(..., "--dataset", help="A dataset name (under the datasets folder) or its folder."),
    encoder: str = typer.Option(DEFAULT_TEXT_ENCODER, "--encoder",
                                help="A Hugging Face model directory, a packaged encoder's name, or a model id "
                                     "already in the Hugging Face cache."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Titles per forward pass."),
):
    """Title vectors of a dataset's artworks (method.md: last four layers summed, mean over tokens).

    Cached by model and title; saved under features/text/<dataset>/<model>/."""
    name, (artworks, titles) = dataset_columns(dataset, "artwork", "title")
    settings = get_settings()
    with progress_bars() as progress:
        result = embed_titles(artworks, titles, dataset=name, features_dir=settings.features_dir,
                              encoder=encoder, batch_size=batch_size, progress=progress)
    console.print(f"{len(result.table.keys):,} artworks x {result.table.dim} ({result.table.meta.model}); "
                  f"{result.encoded:,} titles encoded, the rest from the cache; "
                  f"{result.without_title:,} artworks without a title left out -> {result.folder}", highlight=False)


@embed_app.command("images")
@reports_errors
def embed_images_command(
    dataset: str = typer.Option(..., "--dataset", help="A dataset name (under the datasets folder) or its folder."),
    weights: str = typer.Option(DEFAULT_WEIGHTS, "--weights",
                                help="A ResNet-50 state-dict file; 'imagenet' (from torchvision's cache), "
                                     "'imagenet1k-v1', 'imagenet1k-v2'; or 'none' (random, for tests)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Images per forward pass."),
):
    """ResNet-50 trunk vectors (2048-d) of a dataset's fetched images.

    Cached by model and image bytes; saved under features/images/<dataset>/<model>/. Artworks
    without an image are absent."""
    name, (artworks, urls) = dataset_columns(dataset, "artwork", "image_url")
    settings = get_settings()
    with progress_bars() as progress:
        result = embed_images(artworks, urls, dataset=name, images=ImageCache(settings.images_dir),
                              features_dir=settings.features_dir, weights=weights, batch_size=batch_size,
                              progress=progress)
    console.print(f"{len(result.table.keys):,} artworks x {result.table.dim} ({result.table.meta.model}); "
                  f"{result.encoded:,} images encoded, the rest from the cache; "
                  f"{result.without_image:,} artworks without a fetched image left out -> {result.folder}",
                  highlight=False)
