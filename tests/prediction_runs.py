"""Classification runs written into a store as issue9-model.md lays them out (one predictions graph
per run, hk:SubjectPrediction resources, the run as a hk:ClassificationRun), for the review tests:
the predictions a model would write, without training one. A newer run of a model deletes that
model's predictions for its artworks in older run graphs, as the write-back does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from heritage_kg.graph.namespaces import HK, PROV, XSD, Minter
from heritage_kg.graph.nquads import QuadWriter, typed
from heritage_kg.graph.provenance import SOFTWARE_AGENT, activity_stamp, write_activity

BASE = "https://w3id.org/heritage-kg/"
TATE = BASE + "tate/"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_clock = [datetime(2026, 11, 29, 12, 0, tzinfo=UTC)]


def model_iri(name: str) -> str:
    return f"{BASE}model/{name}"


def write_run(store, model: str, predictions: list[tuple[str, str, float]], *, base: str = BASE) -> dict:
    """Publishes one run of `model` (a name) over `predictions` (artwork IRI, concept IRI,
    confidence) and deletes that model's older predictions for those artworks; returns
    {(artwork, concept): prediction IRI} of the new run."""
    _clock[0] += timedelta(seconds=1)  # each run a stamp of its own, in order
    started = _clock[0]
    run_id = f"{model}-{activity_stamp(started)}"
    minter = Minter(base)
    graph, run = minter.graph(f"predictions/{run_id}"), f"{minter.base}classification/{run_id}"
    written: dict[tuple[str, str], str] = {}
    ranks: dict[str, int] = {}

    def quads(out):
        writer = QuadWriter(out, graph)
        write_activity(writer, run, HK + "ClassificationRun", started, ended=started + timedelta(milliseconds=500),
                       agent=SOFTWARE_AGENT)
        writer.iri(run, HK + "usedModel", model_iri(model))
        writer.iri(model_iri(model), TYPE, HK + "Model")
        for i, (artwork, concept, confidence) in enumerate(predictions):
            prediction = f"{minter.base}prediction/{run_id}/{i}"
            ranks[artwork] = ranks.get(artwork, 0) + 1
            writer.iri(prediction, TYPE, HK + "SubjectPrediction")
            writer.iri(prediction, HK + "predictionFor", artwork)
            writer.iri(prediction, HK + "predictedSubject", concept)
            writer.term(prediction, HK + "confidence", typed(repr(float(confidence)), XSD + "double"))
            writer.term(prediction, HK + "rank", typed(ranks[artwork], XSD + "integer"))
            writer.iri(prediction, PROV + "wasGeneratedBy", run)
            written[(artwork, concept)] = prediction

    store.publish_graphs(quads, [graph])
    artworks = " ".join(f"<{a}>" for a in sorted({a for a, _, _ in predictions}))
    store.update(f"""
        PREFIX hk: <{HK}> PREFIX prov: <{PROV}>
        DELETE {{ GRAPH ?g {{ ?p ?x ?y }} }}
        WHERE {{ GRAPH ?g {{ ?p hk:predictionFor ?a ; prov:wasGeneratedBy ?r . ?r hk:usedModel <{model_iri(model)}> .
                            ?p ?x ?y }}
                 VALUES ?a {{ {artworks} }} FILTER(?g != <{graph}>) }}""")
    return written
