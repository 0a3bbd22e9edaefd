"""`heritage-kg classify`: a registered model classifies a whole collection and its predictions go
back into the graph, one predictions graph per run; `heritage-kg predictions list|show|drop` for
the runs written back."""

from __future__ import annotations

import time

import typer

from heritage_kg.cli import app
from heritage_kg.cli.common import StoreOption, console, open_graph_store, progress_bars, reports_errors, settings
from heritage_kg.cli.graph import Collection

predictions_app = typer.Typer(help="The classification runs written back into the graph.", no_args_is_help=True)
app.add_typer(predictions_app, name="predictions")


@app.command("classify")
@reports_errors
def classify_command(
    collection: Collection = typer.Option(..., "--collection", help="The collection to classify."),
    model: str = typer.Option(..., "--model", help="A registered model: its run's name under the models folder "
                              "('heritage-kg models list'), recorded in the store's models graph."),
    only_unannotated: bool = typer.Option(False, "--only-unannotated",
                                          help="Classify only the artworks no curator gave a subject."),
    batch_size: int = typer.Option(1024, "--batch-size", min=1, help="Artworks per batch."),
    store: str = StoreOption,
):
    """Classify a collection's artworks with a registered model and write the predictions back, in
    one predictions graph for the run (atomic: all or nothing), replacing the model's older
    predictions for the same artworks."""
    from heritage_kg.errors import SourceError
    from heritage_kg.inference.predict import ArtworkClassifier, find_model
    from heritage_kg.inference.writeback import PredictionRun, classify_and_write, collection_artworks

    config, collection = settings(), collection.value
    clock = time.perf_counter()
    with open_graph_store(store) as graph_store:
        artworks = collection_artworks(graph_store, collection, base_iri=config.base_iri,
                                       only_unannotated=only_unannotated)
        if not artworks:
            raise SourceError(f"no {'unannotated ' if only_unannotated else ''}artworks of collection "
                              f"{collection!r} in {graph_store.location}: build it with "
                              f"'heritage-kg build-graph --collection {collection} --source PATH'")
        classifier = ArtworkClassifier.load(find_model(config.models_dir, model, config.base_iri),
                                            features_dir=config.features_dir, base_iri=config.base_iri,
                                            images_dir=config.images_dir)
        run = PredictionRun.start(classifier.model, base_iri=config.base_iri)
        with progress_bars() as progress:
            task = progress.add_task(f"classify {collection}", total=len(artworks))
            written = classify_and_write(graph_store, classifier, run, artworks, batch_size=batch_size,
                                         on_batch=lambda n: progress.advance(task, n))
    seconds = time.perf_counter() - clock
    console.print(f"classified {written.artworks:,} artworks of {collection} with {model} in {seconds:.1f} s "
                  f"({written.artworks / seconds:,.0f} a second)", highlight=False)
    console.print(f"wrote {written.predictions:,} predictions into <{run.graph}> (run {run.run_id}); "
                  f"they replace {model}'s older predictions for {written.replaced_artworks:,} artworks",
                  highlight=False)


@predictions_app.command("list")
@reports_errors
def list_command(store: str = StoreOption):
    """The classification runs in the store, newest first, with their predictions now."""
    from heritage_kg.inference.writeback import list_runs

    with open_graph_store(store, read_only=True) as graph_store:
        runs = list_runs(graph_store)
    if not runs:
        console.print("no classification run in the store; 'heritage-kg classify --collection C --model M' "
                      "writes one", highlight=False)
        return
    console.print("run\tmodel\tended\tartworks\tpredictions", highlight=False)
    for run in runs:
        console.print(f"{run.run_id}\t{run.model}\t{run.ended}\t{run.artworks}\t{run.predictions}", highlight=False)


@predictions_app.command("show")
@reports_errors
def show_command(run: str = typer.Argument(..., help="A run's id, as 'predictions list' shows it, or its graph."),
                 limit: int = typer.Option(50, "--limit", min=0, help="Predictions to print (0: all)."),
                 store: str = StoreOption):
    """A run's provenance and its predictions, by artwork then rank."""
    from heritage_kg.inference.writeback import find_run, run_predictions

    with open_graph_store(store, read_only=True) as graph_store:
        summary = find_run(graph_store, run, base_iri=settings().base_iri)
        console.print(f"run {summary.run}\ngraph {summary.graph}\nmodel {summary.model}\n"
                      f"started {summary.started}\nended {summary.ended}\nagents {' '.join(summary.agents)}\n"
                      f"{summary.predictions:,} predictions about {summary.artworks:,} artworks", highlight=False)
        console.print("artwork\ttitle\trank\tconfidence\tconcept\tlabel", highlight=False)
        for number, p in enumerate(run_predictions(graph_store, summary)):
            if limit and number == limit:
                console.print(f"... {summary.predictions - limit:,} more (--limit 0 shows all)", highlight=False)
                break
            console.print(f"{p.artwork}\t{p.title or ''}\t{p.rank}\t{p.confidence:.3f}\t{p.concept}\t{p.label or ''}",
                          highlight=False, markup=False)


@predictions_app.command("drop")
@reports_errors
def drop_command(run: str = typer.Argument(..., help="A run's id, as 'predictions list' shows it, or its graph."),
                 store: str = StoreOption):
    """Remove a run's predictions graph: the run and its predictions (curators' reviews stay)."""
    from heritage_kg.inference.writeback import drop_run, find_run

    with open_graph_store(store) as graph_store:
        summary = find_run(graph_store, run, base_iri=settings().base_iri)
        drop_run(graph_store, summary)
    console.print(f"dropped <{summary.graph}>: {summary.predictions:,} predictions about "
                  f"{summary.artworks:,} artworks", highlight=False)
