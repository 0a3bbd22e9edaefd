"""`heritage-kg train --config FILE.toml` and `heritage-kg models list|show`: training the subject
classifier into a run folder under the models folder, registering it in the store's models graph,
and reading the runs (from the folder, or with `--store` from the graph)."""

from __future__ import annotations

from pathlib import Path

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import (StoreOption, console, err_console, open_graph_store, progress_bars, reports_errors,
                                   settings, store_location)
from heritage_kg.errors import TrainingError
from heritage_kg.learning.run_config import RunConfig

models_app = typer.Typer(help="The trained classifiers under the models folder.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.command("train")
@reports_errors
def train_command(
    config: Path = typer.Option(..., "--config", help="A run config (TOML); see configs/ for examples."),
    store: str = StoreOption,
    register: bool = typer.Option(True, "--register/--no-register",
                                  help="Record the trained model in the store's models graph (the default store only where it exists)."),
):
    """Train a subject classifier as the config says; an interrupted run resumes when started again.
    The trained model is recorded in the store's models graph, with its metrics and lineage.
    Data-parallel on N processes: torchrun --nproc_per_node=N -m heritage_kg.cli train --config F."""
    from heritage_kg.learning.training import train

    run_config = RunConfig.load(config)
    try:
        with progress_bars() as progress:
            run = train(run_config, models_dir=settings().models_dir, datasets_dir=settings().datasets_dir,
                            progress=progress)
    except KeyboardInterrupt:
        # Unlike other commands, training keeps what it did: the last epoch's checkpoint.
        err_console.print(f"interrupted; the last finished epoch is kept in {settings().models_dir / run_config.name}: "
                          f"run 'heritage-kg train --config {config}' again to resume")
        raise typer.Exit(130) from None
    from heritage_kg.learning.distributed import join_workers

    if not join_workers().writes:
        return  # under torchrun, rank 0 reports and registers
    test = run.metrics["tuned"]["test"]
    at_half = run.metrics["threshold_0.5"]["test"]
    training = run.training
    console.print(f"{run.name}: {training['epochs_run']} epochs (best {training['best_epoch']}), "
                  f"{training['seconds_per_epoch']:.2f} s/epoch, peak memory {training['peak_memory_mb']:.0f} MB",
                  highlight=False)
    console.print(f"test: label micro-F1 {at_half.micro_f1:.3f} at 0.5 / {test.micro_f1:.3f} tuned, macro-F1 "
                  f"{at_half.macro_f1:.3f} / {test.macro_f1:.3f}, mean task F1 {at_half.mean_task_f1:.3f} / "
                  f"{test.mean_task_f1:.3f} -> {run.folder}", highlight=False)
    location = store_location(store)
    # The default store is used only where it exists: a first training must not create an empty one.
    if register and (store or "://" in location or Path(location).is_dir()):
        from heritage_kg.learning.registry import register_run

        with open_graph_store(location) as graph_store:
            model = register_run(graph_store, run, base_iri=settings().base_iri, datasets_dir=settings().datasets_dir)
        console.print(f"registered {model} in the models graph of {location}", highlight=False)
    elif register:
        console.print(f"not registered in a graph: no store at {location} (give one with --store)", highlight=False)


@models_app.command("list")
@reports_errors
def list_command(store: str | None = typer.Option(
        None, "--store", help="Read the models graph of this store instead of the models folder.")):
    """The finished runs, with their test scores (thresholds tuned on validation)."""
    from heritage_kg.learning.runs import list_runs

    if store:
        rows = _graph_rows(store, "models_registry", {},
                           ("name", "architecture", "dataset", "microF1", "macroF1", "meanTaskF1"))
        if len(rows) == 1:
            console.print(f"no model in the models graph of {store}; 'heritage-kg train --config FILE.toml "
                          f"--store {store}' registers one", highlight=False)
        else:
            _print_columns(rows)
        return
    models_dir = settings().models_dir
    runs = list_runs(models_dir)
    if not runs:
        console.print(f"no trained model in {models_dir}; train one with 'heritage-kg train --config FILE.toml'")
        return
    # Plain columns, not a rich table: a narrow terminal would cut the names that 'models show' takes.
    rows = [("run", "model", "dataset", "labels", "micro-F1", "macro-F1", "task F1")]
    for run in runs:
        test = run.metrics["tuned"]["test"]
        rows.append((run.name, run.model_name, run.space.dataset, str(len(run.space.labels)),
                     f"{test.micro_f1:.3f}", f"{test.macro_f1:.3f}", f"{test.mean_task_f1:.3f}"))
    _print_columns(rows)


def _print_columns(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        console.print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
                      highlight=False, markup=False)


def _graph_rows(store: str, query_name: str, values: dict, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    """A header and one row per answer of a named query over the store, numbers to 3 places."""
    from rdflib import Literal

    from heritage_kg.graph.queries import load_query

    query = load_query(query_name)
    with open_graph_store(store, read_only=True) as graph_store:
        _, answers = graph_store.select(query.text, query.bindings(values))

    def cell(term) -> str:
        if isinstance(term, Literal) and isinstance(term.toPython(), float):
            return f"{term.toPython():.3f}"
        return "" if term is None else str(term)

    return [columns, *[tuple(cell(answer.get(c)) for c in columns) for answer in answers]]


@models_app.command("show")
@reports_errors
def show_command(name: str = typer.Argument(..., help="A run's name (its folder under the models folder)."),
                 store: str | None = typer.Option(
                     None, "--store", help="Show the model's record in this store's models graph: its per-task "
                                           "scores and its lineage (training set, build, queries).")):
    """A run's model card, or with --store its record in the graph."""
    from heritage_kg.learning.runs import load_run

    if store:
        from rdflib import URIRef

        from heritage_kg.graph.namespaces import Minter
        from heritage_kg.learning.registry import model_iri

        model = URIRef(model_iri(Minter(settings().base_iri), name))
        lineage = _graph_rows(store, "model_lineage", {"model": model},
                              ("dataset", "datasetVersion", "build", "source", "configDigest", "queryName"))
        if len(lineage) == 1:
            raise TrainingError(f"no model {name!r} in the models graph of {store}; "
                                f"'heritage-kg models list --store {store}' lists them")
        _print_columns(_graph_rows(store, "model_scores", {"model": model},
                                   ("split", "policy", "task", "precision", "recall", "f1", "support")))
        console.print("")
        _print_columns(lineage)
        return
    folder = settings().models_dir / name
    if not folder.is_dir():
        raise TrainingError(f"no run {name!r} in {settings().models_dir}; 'heritage-kg models list' lists them")
    run = load_run(folder, with_model=False)
    console.print((run.folder / "README.md").read_text(encoding="utf-8"), highlight=False, markup=False)


@models_app.command("register")
@reports_errors
def register_command(name: str = typer.Argument(..., help="A run's name (its folder under the models folder)."),
                     store: str = StoreOption):
    """Record a finished run in the store's models graph (again: its record is replaced)."""
    from heritage_kg.learning.registry import register_run
    from heritage_kg.learning.runs import load_run

    folder = settings().models_dir / name
    if not folder.is_dir():
        raise TrainingError(f"no run {name!r} in {settings().models_dir}; 'heritage-kg models list' lists them")
    run = load_run(folder, with_model=False)
    with open_graph_store(store) as graph_store:
        model = register_run(graph_store, run, base_iri=settings().base_iri, datasets_dir=settings().datasets_dir)
    console.print(f"registered {model} in the models graph of {store_location(store)}", highlight=False)
