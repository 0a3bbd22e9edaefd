"""`heritage-kg embed ...`: feature vectors for the classifier (text, kg, images)."""

from __future__ import annotations

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import console, progress_bars, reports_errors, settings

embed_app = typer.Typer(help="Compute feature vectors (text, kg, images) for a dataset's artworks.",
                        no_args_is_help=True)
app.add_typer(embed_app, name="embed")


def dataset_columns(dataset: str, *columns: str) -> tuple[str, list[list]]:
    """The dataset's name and the listed columns of its table, as Python lists."""
    from heritage_kg.learning.datasets import open_dataset

    training_set = open_dataset(dataset, settings().datasets_dir)
    return training_set.name, [training_set.table.column(column).to_pylist() for column in columns]


@embed_app.command("text")
@reports_errors
def embed_text_command(
    dataset: str = typer.Option(..., "--dataset", help="A dataset name (under the datasets folder) or its folder."),
    encoder: str = typer.Option(None, "--encoder", show_default=False,
                                help="A Hugging Face model directory, a packaged encoder's name, or a model id "
                                     "already in the Hugging Face cache (default: the packaged all-MiniLM-L6-v2)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Titles per forward pass."),
):
    """Title vectors of a dataset's artworks (method.md: last four layers summed, mean over tokens).

    Cached by model and title; saved under features/text/<dataset>/<model>/."""
    from heritage_kg.learning.features.text import DEFAULT_TEXT_ENCODER, embed_titles

    name, (artworks, titles) = dataset_columns(dataset, "artwork", "title")
    with progress_bars() as progress:
        result = embed_titles(artworks, titles, dataset=name, features_dir=settings().features_dir,
                              encoder=encoder or DEFAULT_TEXT_ENCODER, batch_size=batch_size, progress=progress)
    console.print(f"{len(result.table.keys):,} artworks x {result.table.dim} ({result.table.meta.model}); "
                  f"{result.encoded:,} titles encoded, the rest from the cache; "
                  f"{result.without_title:,} artworks without a title left out -> {result.folder}", highlight=False)


@embed_app.command("images")
@reports_errors
def embed_images_command(
    dataset: str = typer.Option(..., "--dataset", help="A dataset name (under the datasets folder) or its folder."),
    weights: str = typer.Option(None, "--weights", show_default=False,
                                help="A ResNet-50 state-dict file; 'imagenet' (from torchvision's cache; the "
                                     "default), 'imagenet1k-v1', 'imagenet1k-v2'; or 'none' (random, for tests)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Images per forward pass."),
):
    """ResNet-50 trunk vectors (2048-d) of a dataset's fetched images.

    Cached by model and image bytes; saved under features/images/<dataset>/<model>/. Artworks
    without an image are absent."""
    from heritage_kg.learning.features.images import DEFAULT_WEIGHTS, embed_images
    from heritage_kg.learning.images import ImageCache

    name, (artworks, urls) = dataset_columns(dataset, "artwork", "image_url")
    config = settings()
    with progress_bars() as progress:
        result = embed_images(artworks, urls, dataset=name, images=ImageCache(config.images_dir),
                              features_dir=config.features_dir, weights=weights or DEFAULT_WEIGHTS, batch_size=batch_size,
                              progress=progress)
    console.print(f"{len(result.table.keys):,} artworks x {result.table.dim} ({result.table.meta.model}); "
                  f"{result.encoded:,} images encoded, the rest from the cache; "
                  f"{result.without_image:,} artworks without a fetched image left out -> {result.folder}",
                  highlight=False)
