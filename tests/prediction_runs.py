"""Classification runs written into a store by the real write-back (inference/writeback.py), for
the review tests: the predictions a model would make, given here by hand instead of by a trained
model, so that a test says which artwork gets which concept with which confidence."""

from __future__ import annotations

from heritage_kg.graph.namespaces import HK, Minter
from heritage_kg.inference.predict import ArtworkPrediction, SubjectScore
from heritage_kg.inference.writeback import PredictionRun, prediction_iri, write_predictions
from heritage_kg.learning.registry import models_graph

BASE = "https://w3id.org/heritage-kg/"
TATE = BASE + "tate/"


class WrittenPredictions(dict):
    """{(artwork, concept): prediction IRI} of one run, and when the run ended."""

    ended = None


def model_iri(name: str) -> str:
    return f"{BASE}model/{name}"


def write_run(store, model: str, predictions: list[tuple[str, str, float]], *, publish: bool | None = None
              ) -> WrittenPredictions:
    """Writes one run of `model` (a name, registered in the models graph) over `predictions`
    (artwork IRI, concept IRI, confidence), which replaces that model's older predictions for
    those artworks; `publish` as write_predictions takes it (None: its own choice)."""
    iri = model_iri(model)
    registered = f"GRAPH <{models_graph(Minter(BASE))}> {{ <{iri}> a <{HK}Model> }}"
    if not store.ask(f"ASK {{ {registered} }}"):
        store.update(f"INSERT DATA {{ {registered} }}")
    run = PredictionRun.start(iri, base_iri=BASE)
    by_artwork: dict[str, list[SubjectScore]] = {}
    for artwork, concept, confidence in predictions:
        by_artwork.setdefault(artwork, []).append(
            SubjectScore(concept, concept.rsplit("/", 1)[-1], concept, confidence, 0.5, True))
    written = write_predictions(store, run, [ArtworkPrediction(artwork, iri, subjects, ["text"], [])
                                             for artwork, subjects in by_artwork.items()],
                                artworks=list(by_artwork), publish=publish)
    result = WrittenPredictions({(artwork, concept): prediction_iri(run, artwork, concept)
                                 for artwork, concept, _ in predictions})
    result.ended = written.ended
    return result


def write_runs(location: str, model: str, runs: list[list[tuple[str, str, float]]], publish: bool | None) -> None:
    """Writes the runs one after the other into the store at `location`: the body of a writer
    process (tests that race a write-back run it with multiprocessing's spawn)."""
    from heritage_kg.graph.store import open_store

    with open_store(location) as store:
        for predictions in runs:
            write_run(store, model, predictions, publish=publish)
