"""What every command shares: the console, progress bars, the store option and the one place
where a user's error becomes a message and an exit code instead of a traceback."""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager

import typer
from rich.console import Console  # typer's own help is drawn with rich: loaded anyway

from heritage_kg.errors import HeritageKGError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

StoreOption = typer.Option(None, "--store", help="Store folder, or a SPARQL server URL (default: $HERITAGE_KG_STORE or data/store).")


def settings():
    """The settings from the environment: read only by the commands that need them (pydantic
    settings take a third of the start-up), and only here and in api/."""
    from heritage_kg.config import get_settings

    return get_settings()


def store_location(store: str | None) -> str:
    return store or settings().store


def open_graph_store(store: str | None, *, read_only: bool = False):
    """The store a command works on: the --store option or the setting, a server store at the
    endpoints and with the credentials the settings give (HERITAGE_KG_STORE_SERVER, ...)."""
    from heritage_kg.graph.store import open_store

    location = store_location(store)
    # a folder needs no settings (reading them takes a third of a command's start-up)
    server = settings().store_server_endpoints(location) if location.startswith(("http://", "https://")) else None
    return open_store(location, read_only=read_only, server=server)


def reports_errors(command):
    """Turns a HeritageKGError into 'error: ...' on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except HeritageKGError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; nothing was changed")
            raise typer.Exit(130) from None

    return wrapper


@contextmanager
def progress_bars():
    """Rich progress bars on a terminal; silent when output is piped or under CI."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err_console, disable=not sys.stderr.isatty(), transient=False)
    with progress:
        yield progress
