"""`heritage-kg dataset ...`: training sets derived from the graph (build one, show one)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import StoreOption, console, open_graph_store, reports_errors, settings

if TYPE_CHECKING:
    from heritage_kg.learning.datasets import TrainingSet

dataset_app = typer.Typer(help="Training sets derived from the graph by SPARQL: labels, splits, medium subsets.",
                          no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("build")
@reports_errors
def build_command(
    name: str = typer.Option(..., "--name", help="The dataset's name: its folder under the datasets folder."),
    tasks: list[str] = typer.Option([], "--tasks", "--task", show_default=False,
                                    help="A task (top-level subject, by label or IRI); repeat for several "
                                         "(default: the six tasks of method.md: nature, architecture, places, "
                                         "people, objects, abstraction)."),
    granularity: str = typer.Option("level2", "--granularity",
                                    help="level1: one label per task; level2: its frequent sub-categories."),
    min_examples: int = typer.Option(700, "--min-examples",
                                     help="level2: a sub-category needs at least this many artworks."),
    medium: list[str] = typer.Option([], "--medium",
                                     help="Keep only artworks in this medium group (slug, label or IRI); repeat "
                                          "for several. Labels and split stay those of the all-media dataset. "
                                          "'all': NAME plus one NAME-<group> per medium group."),
    seed: int = typer.Option(0, "--seed", help="Seed of the stratified 80/10/10 split."),
    require_image: bool = typer.Option(
        False, "--require-image",
        help="Visual mode: only artworks with an image (a decoded one in the image cache once "
             "'heritage-kg fetch-images' has fetched some, else a thumbnail URL); labels and split are "
             "chosen among them."),
    include_accepted: bool = typer.Option(
        False, "--include-accepted",
        help="Learn from curators' reviews too: predictions they accepted (POST /review, the artwork page) add "
             "labels, whatever the artwork's collection; rejected ones are never labels. The manifest counts both."),
    store: str = StoreOption,
):
    """Select labels, split them 80/10/10 by iterative stratification, write the dataset folder
    (table.parquet + manifest.json) and print its label table."""
    from heritage_kg.learning.datasets import ALL_MEDIA, DEFAULT_TASKS, DatasetSpec, build_dataset, build_medium_subsets

    config = settings()
    each_medium = ALL_MEDIA in medium
    spec = DatasetSpec(name=name, tasks=tuple(tasks) or DEFAULT_TASKS, granularity=granularity, min_examples=min_examples,
                       media=tuple(m for m in medium if m != ALL_MEDIA), seed=seed, require_image=require_image,
                       include_accepted=include_accepted)
    images = None
    if require_image:
        from heritage_kg.learning.images import ImageCache

        images = ImageCache(config.images_dir)
    where = {"datasets_dir": config.datasets_dir, "base_iri": config.base_iri, "images": images}
    started = time.perf_counter()
    with open_graph_store(store, read_only=True) as graph_store:
        built = build_medium_subsets(graph_store, spec, **where) if each_medium \
            else [build_dataset(graph_store, spec, **where)]
    print_label_table(built[0])
    for training_set in built[1:]:
        console.print(f"  {training_set.name}: {training_set.manifest.artworks} artworks "
                      f"({_split_sizes(training_set)})")
    console.print(f"{len(built)} dataset(s) written under {built[0].folder.parent} "
                  f"in {time.perf_counter() - started:.1f} s")


@dataset_app.command("show")
@reports_errors
def show_command(name: str = typer.Argument(..., help="A dataset name or folder.")):
    """Print a dataset's label table."""
    from heritage_kg.learning.datasets import open_dataset

    print_label_table(open_dataset(name, settings().datasets_dir))


def print_label_table(training_set: TrainingSet) -> None:
    from rich.table import Table

    from heritage_kg.learning.datasets import SPLITS

    manifest = training_set.manifest
    table = Table(title=f"{manifest.name} (version {manifest.version}): {manifest.artworks} artworks, "
                        f"{len(manifest.labels)} labels; {_split_sizes(training_set)}")
    for column in ("label", "task", "level"):
        table.add_column(column)
    for column in (*SPLITS, "total"):
        table.add_column(column, justify="right")
    for entry in manifest.labels:
        table.add_row(entry.display_label, entry.task_label, str(entry.level),
                      *(str(entry.counts[c]) for c in (*SPLITS, "total")))
    console.print(table)
    if manifest.image_filter is not None:
        kept = manifest.image_filter
        console.print(f"visual mode: artworks with {kept.rule}"
                      + (f" ({kept.image_cache})" if kept.image_cache else "")
                      + f"; {kept.kept:,} annotated artworks kept, {kept.left_out:,} without an image left out",
                      highlight=False)
    if manifest.reviews is not None:
        reviews = manifest.reviews
        console.print(f"curators' reviews: {reviews.accepted:,} accepted predictions ({reviews.accepted_added:,} "
                      f"added a label), {reviews.rejected:,} rejected ({reviews.rejected_excluded:,} kept out of "
                      f"the labels)", highlight=False)
    console.print(f"folder: {training_set.folder}")


def _split_sizes(training_set: TrainingSet) -> str:
    return ", ".join(f"{split} {n}" for split, n in training_set.manifest.splits.items())
