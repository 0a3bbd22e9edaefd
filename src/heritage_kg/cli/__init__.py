"""The `heritage-kg` command line. Each area of the platform registers its commands on `app`
from a module of its own (graph, serve, dataset, links, embed, train)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="heritage-kg",
    help="Collection metadata as a knowledge graph that teaches, and is taught by, machine learning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from heritage_kg.cli import graph  # noqa: E402,F401  (registers its commands)
from heritage_kg.cli import experiment  # noqa: E402,F401

for _area in ("serve", "dataset", "links", "embed", "embed_kg", "images", "train"):
    try:
        __import__(f"heritage_kg.cli.{_area}")
    except ModuleNotFoundError as _missing:
        if _missing.name != f"heritage_kg.cli.{_area}":
            raise
