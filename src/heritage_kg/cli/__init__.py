"""The `heritage-kg` command line. Each area of the platform registers its commands on `app`
from a module of its own, listed below by name: a module that fails to import fails the command
line, loudly. A command module imports only typer at its top and its libraries inside its
commands, so that `heritage-kg --help` starts fast (benchmarks/cli_startup.py)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="heritage-kg",
    help="Collection metadata as a knowledge graph that teaches, and is taught by, machine learning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each import registers its module's commands on `app` (embed_kg adds to embed's group, so after it).
from heritage_kg.cli import graph  # noqa: E402,F401
from heritage_kg.cli import serve  # noqa: E402,F401
from heritage_kg.cli import dataset  # noqa: E402,F401
from heritage_kg.cli import links  # noqa: E402,F401
from heritage_kg.cli import embed  # noqa: E402,F401
from heritage_kg.cli import embed_kg  # noqa: E402,F401
from heritage_kg.cli import images  # noqa: E402,F401
from heritage_kg.cli import train  # noqa: E402,F401
from heritage_kg.cli import experiment  # noqa: E402,F401
from heritage_kg.cli import classify  # noqa: E402,F401
