"""`heritage-kg experiment A|B|C [--mode fusion|visual]`: the grids of method.md section 5, trained
from a base config, with result tables (Markdown, CSV) and plots (PNG) beside their runs."""

from __future__ import annotations

from pathlib import Path

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import console, progress_bars, reports_errors, settings
from heritage_kg.resources import PROJECT_ROOT
from heritage_kg.errors import ConfigError
from heritage_kg.learning.run_config import RunConfig

DEFAULT_BASES = {mode: PROJECT_ROOT / "configs" / f"experiment-{mode}.toml" for mode in ("fusion", "visual")}


@app.command("experiment")
@reports_errors
def experiment_command(
    experiment: str = typer.Argument(..., help="A (level one vs two), B (all media vs each subset) or C (ablations)."),
    mode: str = typer.Option("fusion", "--mode", help="fusion (text, KG, medium) or visual (image and contexts)."),
    datasets: str = typer.Option(..., "--datasets", help="Comma-separated dataset names: A: the level-1 then the "
                                 "level-2 dataset; B: the all-media dataset then its subsets; C: those to ablate on."),
    config: Path = typer.Option(None, "--config", help="The base run config (default: configs/experiment-<mode>.toml); "
                                "'{dataset}' in a feature path is each run's dataset."),
    out: Path = typer.Option(Path("data/experiments"), "--out",
                             help="Results go into OUT/<experiment>-<mode>/, the runs into OUT/runs/ (shared by the "
                                  "experiments, so a configuration two grids hold is trained once)."),
):
    """Run an experiment's grid (finished runs are reused) and write its tables and plots."""
    from heritage_kg.learning.experiments import run_experiment

    if mode not in DEFAULT_BASES:
        raise ConfigError(f"--mode must be fusion or visual, not {mode!r}")
    base = RunConfig.load(config or DEFAULT_BASES[mode])
    names = [name.strip() for name in datasets.split(",") if name.strip()]
    if not names:
        raise ConfigError("--datasets names no dataset")
    folder = out / f"{experiment.upper()}-{mode}"
    with progress_bars() as progress:
        def train_run(run_config, models_dir, datasets_dir):
            from heritage_kg.learning.training import train

            return train(run_config, models_dir=models_dir, datasets_dir=datasets_dir, progress=progress)

        rows = run_experiment(experiment.upper(), base, names, out=folder, mode=mode, runs_dir=out / "runs",
                              datasets_dir=settings().datasets_dir, train_run=train_run)
    runs = len({row.configuration for row in rows})
    console.print(f"experiment {experiment.upper()} ({mode}): {runs} configurations -> {folder}/results.md, "
                  "results.csv and the plots", highlight=False)
