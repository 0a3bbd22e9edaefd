"""`heritage-kg train --config FILE.toml` and `heritage-kg models list|show`: training the subject
classifier into a run folder under the models folder, and reading the runs there."""

from __future__ import annotations

from pathlib import Path

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import console, err_console, progress_bars, reports_errors, settings
from heritage_kg.errors import TrainingError
from heritage_kg.learning.run_config import RunConfig

models_app = typer.Typer(help="The trained classifiers under the models folder.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.command("train")
@reports_errors
def train_command(
    config: Path = typer.Option(..., "--config", help="A run config (TOML); see configs/ for examples."),
):
    """Train a subject classifier as the config says; an interrupted run resumes when started again."""
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
    test = run.metrics["tuned"]["test"]
    at_half = run.metrics["threshold_0.5"]["test"]
    training = run.training
    console.print(f"{run.name}: {training['epochs_run']} epochs (best {training['best_epoch']}), "
                  f"{training['seconds_per_epoch']:.2f} s/epoch, peak memory {training['peak_memory_mb']:.0f} MB",
                  highlight=False)
    console.print(f"test: label micro-F1 {at_half.micro_f1:.3f} at 0.5 / {test.micro_f1:.3f} tuned, macro-F1 "
                  f"{at_half.macro_f1:.3f} / {test.macro_f1:.3f}, mean task F1 {at_half.mean_task_f1:.3f} / "
                  f"{test.mean_task_f1:.3f} -> {run.folder}", highlight=False)


@models_app.command("list")
@reports_errors
def list_command():
    """The finished runs, with their test scores (thresholds tuned on validation)."""
    from heritage_kg.learning.runs import list_runs

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
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        console.print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
                      highlight=False, markup=False)


@models_app.command("show")
@reports_errors
def show_command(name: str = typer.Argument(..., help="A run's name (its folder under the models folder).")):
    """A run's model card."""
    from heritage_kg.learning.runs import load_run

    folder = settings().models_dir / name
    if not folder.is_dir():
        raise TrainingError(f"no run {name!r} in {settings().models_dir}; 'heritage-kg models list' lists them")
    run = load_run(folder, with_model=False)
    console.print((run.folder / "README.md").read_text(encoding="utf-8"), highlight=False, markup=False)
