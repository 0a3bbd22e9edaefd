"""`heritage-kg embed kg`: knowledge-graph vectors for a dataset's artists, either trained with
PyKEEN on the store's own graph (leak-free for the dataset) or read from a word2vec file of
outside vectors (KGVec2Go) through the owl:sameAs links of the links graph."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import typer

from heritage_kg.cli.common import StoreOption, console, open_graph_store, reports_errors, settings
from heritage_kg.cli.embed import embed_app


@embed_app.command("kg")
@reports_errors
def embed_kg(
    dataset: str = typer.Option(..., "--dataset", help="A dataset name (under the datasets folder) or its folder."),
    model: str = typer.Option("TransE", "--model", help="Any PyKEEN model by name: TransE, RotatE, ComplEx, DistMult..."),
    dim: int = typer.Option(200, "--dim", min=1, help="Embedding dimension (complex models store twice as many reals)."),
    epochs: int = typer.Option(20, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed", help="Seeds the held-out split of the triples and the training."),
    batch_size: int = typer.Option(1024, "--batch-size", min=1),
    learning_rate: float = typer.Option(0.001, "--learning-rate", min=0.0),
    evaluation_triples: int = typer.Option(
        2000, "--evaluation-triples", min=0,
        help="Score link prediction on a seeded sample of this many held-out test triples (0: all of them)."),
    vectors: Path | None = typer.Option(
        None, "--vectors", help="Instead of training: a word2vec text file of outside vectors keyed by "
                                "DBpedia or Wikidata URIs (KGVec2Go), reached through owl:sameAs links."),
    out: Path | None = typer.Option(None, "--out", help="Where to write the feature table (default: "
                                                         "features/kg/<dataset>/<model>-<dim> or vectors-<file>)."),
    store: str = StoreOption,
):
    """Knowledge-graph vectors keyed by entity IRI, saved as a feature table; artists without a
    vector are masked."""

    config = settings()
    where = {"datasets_dir": config.datasets_dir, "features_dir": config.features_dir, "folder": out}
    with open_graph_store(store, read_only=True) as graph_store:
        if vectors is not None:
            _outside_vectors(graph_store, dataset, vectors, where)
        else:
            _trained_vectors(graph_store, dataset, where, model=model, dim=dim, epochs=epochs, seed=seed,
                             batch_size=batch_size, learning_rate=learning_rate,
                             evaluation_triples=evaluation_triples or None)


def _trained_vectors(graph_store, dataset: str, where: dict, **config) -> None:
    import pykeen  # noqa: F401  (sets its loggers to INFO on import: quieted after it)

    from heritage_kg.learning.features.kg import KGEmbedding, train_kg_features

    for noisy in ("pykeen", "torch_max_mem"):  # their INFO and CPU warnings would drown the report
        logging.getLogger(noisy).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true")
    run = train_kg_features(graph_store, dataset, KGEmbedding(**config), **where)
    meta, details = run.table.meta, run.table.meta.details
    console.print(f"{meta.model} ({meta.dim}-d) on {details['triples']['exported']:,} triples over "
                  f"{details['entities']:,} entities, {details['epochs']} epochs in {details['train_seconds']:.1f} s "
                  f"({details['seconds_per_epoch']:.2f} s/epoch)")
    console.print(f"leak-free: {details['subject_triples_dropped']:,} subject annotations left out "
                  f"({details['exclusion']}); {details['subject_triples_kept']:,} kept")
    console.print(f"link prediction on {details['triples']['evaluated']:,} held-out triples (filtered): "
                  f"MRR {details['mrr']:.3f}, Hits@10 {details['hits_at_10']:.3f} "
                  f"(predicting the tail: MRR {details['mrr_tail']:.3f}, Hits@10 {details['hits_at_10_tail']:.3f})")
    console.print(f"wrote {len(run.table.keys):,} entity vectors to {run.folder}")


def _outside_vectors(graph_store, dataset: str, vectors: Path, where: dict) -> None:
    from heritage_kg.learning.features.kg_vectors import artist_vectors_from_file

    table, folder, coverage = artist_vectors_from_file(graph_store, dataset, vectors, **where)
    console.print(coverage.summary(), highlight=False)
    if coverage.malformed:
        console.print(f"[yellow]skipped {len(coverage.malformed)} malformed lines of {vectors}[/]:")
        for line in coverage.malformed[:10]:
            console.print(f"  line {line.number}: {line.reason}", highlight=False)
        if len(coverage.malformed) > 10:
            console.print(f"  ... and {len(coverage.malformed) - 10} more")
    console.print(f"wrote {len(table.keys):,} artist vectors ({table.dim}-d) to {folder}")
