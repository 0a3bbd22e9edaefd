"""Predictions written back into the graph. Each classification run gets a predictions graph of
its own (`{base}graph/predictions/{run id}`) holding the run as PROV (an hk:ClassificationRun
with its model, times, agents and software version) and each subject the model says yes to as an
hk:SubjectPrediction with its artwork, concept, confidence and rank. Never as hk:subject: that
property is the curators'.

A run's write is atomic, and takes over the same model's older predictions for the artworks it
classified (they are removed from the older runs' graphs in the same write); other models'
predictions and the curators' annotations are left alone."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from rdflib import Literal, URIRef

from heritage_kg.errors import ResourceNotFoundError, UnknownModelError
from heritage_kg.graph.namespaces import HK, PROV, RDF, Minter
from heritage_kg.graph.nquads import QuadWriter, TripleWriter
from heritage_kg.graph.provenance import SOFTWARE_AGENT, activity_stamp, write_activity, write_generated, write_used
from heritage_kg.graph.queries import inline_bindings, load_query
from heritage_kg.graph.store import GraphStore

if TYPE_CHECKING:  # the classifier brings torch: listing or dropping runs does without it
    from heritage_kg.inference.predict import ArtworkClassifier, ArtworkPrediction, SubjectScore

TYPE = RDF + "type"
# A run over up to this many artworks (POST /classify?write=true: one) is written by one SPARQL
# update, which queues behind other writers on the store's lock; a larger one (a collection) by
# the store's publish, which streams into the bulk loader: an update's text would not fit in
# memory, but on the embedded store a publish is a build, and only one build runs at a time.
UPDATE_LIMIT = 100


def predictions_graph_prefix(minter: Minter) -> str:
    return minter.graph("predictions") + "/"


@dataclass(frozen=True)
class PredictionRun:
    """A classification run about to be written: where, by which model, started when, by whom."""

    run_id: str
    iri: str
    graph: str
    model: str
    started: datetime
    agents: tuple[str, ...] = (SOFTWARE_AGENT,)

    @classmethod
    def start(cls, model: str, *, base_iri: str, curator: str | None = None,
              started: datetime | None = None) -> PredictionRun:
        """A run of `model` (its registry IRI) starting now; `curator` (an agent IRI) when a
        curator asked for it."""
        minter = Minter(base_iri)
        started = started or datetime.now(UTC)
        run_id = f"{model.rstrip('/').rsplit('/', 1)[-1]}-{activity_stamp(started)}"
        return cls(run_id, f"{minter.base}classification/{run_id}", predictions_graph_prefix(minter) + run_id,
                   model, started, (SOFTWARE_AGENT, curator) if curator else (SOFTWARE_AGENT,))


@dataclass
class WrittenRun:
    run: PredictionRun
    ended: datetime | None = None
    artworks: int = 0
    predictions: int = 0
    replaced_artworks: int = 0  # artworks whose older predictions by the same model this run replaced
    replaced_graphs: list[str] = field(default_factory=list)


def write_predictions(store: GraphStore, run: PredictionRun, predictions: Iterable[ArtworkPrediction], *,
                      artworks: Collection[str], publish: bool | None = None) -> WrittenRun:
    """Writes the run and its `predictions` (for `artworks`, all by the run's model; an iterator
    is consumed as it is written) atomically into the run's graph, removing the model's older
    predictions for those artworks. If anything fails, the predictions iterator included, the
    store is left as it was. `publish`: through the store's publish (True) or one update (False);
    by default by the number of artworks (UPDATE_LIMIT)."""
    artworks = set(artworks)
    if not (len(artworks) > UPDATE_LIMIT if publish is None else publish):
        written, update = prepare_update(store, run, predictions, artworks=artworks)
        store.update(update)
        return written
    older = _older_graphs(store, run, artworks)
    written = _written(run, older)
    _publish(store, run, predictions, artworks, older, written)
    return written


def prepare_update(store: GraphStore, run: PredictionRun, predictions: Iterable[ArtworkPrediction], *,
                   artworks: Collection[str]) -> tuple[WrittenRun, str]:
    """The one SPARQL update (one transaction) that writes a small run: the model's older
    predictions for the artworks out, the run in. For a writer that applies it itself (the
    service's, POST /classify?write=true); `write_predictions` otherwise."""
    artworks = set(artworks)
    written = _written(run, _older_graphs(store, run, artworks))
    triples = _TextBuffer()
    _write_run(TripleWriter(triples), run, predictions, artworks, written)
    drop = load_query("predictions_drop_model_artwork")
    removals = [inline_bindings(drop.text, drop.bindings({"model": URIRef(run.model), "artwork": URIRef(artwork)}))
                for artwork in sorted(artworks)]
    return written, " ;\n".join([*removals, f"INSERT DATA {{ GRAPH <{run.graph}> {{\n{triples.text()}}} }}"])


def _written(run: PredictionRun, older: dict[str, set[str]]) -> WrittenRun:
    return WrittenRun(run, replaced_artworks=len(set().union(*older.values())) if older else 0,
                      replaced_graphs=sorted(older))


def collection_artworks(store: GraphStore, collection: str, *, base_iri: str, only_unannotated: bool = False
                        ) -> list[str]:
    """The artworks of a collection ("tate", "cmoa") a bulk run classifies: all, or those without
    a curator's subject."""
    query = load_query("classify_collection_artworks")
    _, rows = store.select(query.text, query.bindings({"collection": URIRef(Minter(base_iri).collection(collection)),
                                                       "unannotatedOnly": Literal(only_unannotated)}))
    return [str(row["artwork"]) for row in rows]


def classify_and_write(store: GraphStore, classifier: ArtworkClassifier, run: PredictionRun, artworks: list[str], *,
                       batch_size: int = 256, on_batch: Callable[[int], None] | None = None) -> WrittenRun:
    """Classifies `artworks` batch by batch and writes the predictions as they come into the
    run's graph, atomically: until the last batch is written readers see none of them, and a
    failure (or a kill) on the way leaves the store as it was. `on_batch(n)` after each batch."""

    def classified() -> Iterator[ArtworkPrediction]:
        for start in range(0, len(artworks), batch_size):
            batch = artworks[start:start + batch_size]
            yield from classifier.classify_artworks(store, batch, batch_size=batch_size)
            if on_batch is not None:
                on_batch(len(batch))

    return write_predictions(store, run, classified(), artworks=artworks)


def _older_graphs(store: GraphStore, run: PredictionRun, artworks: set[str]) -> dict[str, set[str]]:
    """The predictions graphs holding the run's model's predictions for some of `artworks`, and
    which; UnknownModelError for a model the models graph does not hold (a run's provenance must
    lead to the registry's entity)."""
    registered = load_query("model_is_registered")
    if not store.ask(registered.text, registered.bindings({"model": URIRef(run.model)})):
        name = run.model.rsplit("/", 1)[-1]
        raise UnknownModelError(f"the model {run.model} is not in the models graph of {store.location}; record it "
                                f"with 'heritage-kg models register {name} --store {store.location}'")
    query = load_query("predictions_model_artworks")
    _, rows = store.select(query.text, query.bindings({"model": URIRef(run.model)}))
    older: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if str(row["artwork"]) in artworks:
            older[str(row["graph"])].add(str(row["artwork"]))
    return dict(older)


def _publish(store: GraphStore, run: PredictionRun, predictions: Iterable[ArtworkPrediction], artworks: set[str],
             older: dict[str, set[str]], written: WrittenRun) -> None:
    """The store's atomic publish: the run's graph and each older graph of the model, rewritten
    without the predictions this run replaces, take the place of the old ones at once.

    The older graphs are listed before the publish starts. A single-artwork write of the same
    model and artwork that lands between that listing and the publish's snapshot (on a SPARQL
    server store: before the final swap) keeps its predictions beside this run's for that
    artwork, until the model's next run over it; writes after the snapshot of an embedded store
    are replayed on the new generation, and so replace this run's, as they should."""

    def write_quads(out: TextIO) -> None:
        _write_run(QuadWriter(out, run.graph), run, predictions, artworks, written)
        for graph in sorted(older):
            _copy_graph_without(store, out, graph, older[graph])

    store.publish_graphs(write_quads, [run.graph, *sorted(older)])


def _write_run(graph: QuadWriter, run: PredictionRun, predictions: Iterable[ArtworkPrediction],
               artworks: set[str], written: WrittenRun) -> None:
    """The predictions, then the run: its end is when its last prediction was written."""
    for prediction in predictions:
        if prediction.model != run.model:
            raise ValueError(f"a prediction of {prediction.model} in a run of {run.model}")
        if prediction.artwork not in artworks:
            raise ValueError(f"a prediction for {prediction.artwork}, not among the run's artworks")
        written.predictions += write_prediction(graph, run, prediction.artwork, prediction.predicted)
        written.artworks += 1
    written.ended = datetime.now(UTC)
    write_activity(graph, run.iri, HK + "ClassificationRun", run.started, ended=written.ended, agent=run.agents[0])
    for agent in run.agents[1:]:
        graph.iri(run.iri, PROV + "wasAssociatedWith", agent)
    write_used(graph, run.iri, run.model, relation=HK + "usedModel")


def write_prediction(graph: QuadWriter, run: PredictionRun, artwork: str, subjects: list[SubjectScore]) -> int:
    """One artwork's predicted subjects, ranked by confidence (1: the most confident); returns
    how many were written."""
    ranked = sorted(subjects, key=lambda s: (-s.probability, s.concept))
    for rank, subject in enumerate(ranked, start=1):
        node = prediction_iri(run, artwork, subject.concept)
        graph.iri(node, TYPE, HK + "SubjectPrediction")
        graph.iri(node, HK + "predictionFor", artwork)
        graph.iri(node, HK + "predictedSubject", subject.concept)
        graph.decimal(node, HK + "confidence", min(max(float(subject.probability), 0.0), 1.0))
        graph.integer(node, HK + "rank", rank)
        write_generated(graph, run.iri, node)
    return len(ranked)


def prediction_iri(run: PredictionRun, artwork: str, concept: str) -> str:
    digest = hashlib.sha1(f"{artwork} {concept}".encode()).hexdigest()[:20]
    return f"{run.iri.replace('/classification/', '/prediction/', 1)}/{digest}"


def _copy_graph_without(store: GraphStore, out: TextIO, graph: str, artworks: set[str]) -> None:
    """Copies an older predictions graph into `out` as N-Quads, leaving out its predictions for
    `artworks` (each with all its statements)."""
    query = load_query("predictions_in_graph")
    _, rows = store.select(query.text, query.bindings({"graph": URIRef(graph)}))
    dropped = {f"<{row['prediction']}>" for row in rows if str(row["artwork"]) in artworks}
    dump = store.staging_dir() / f"predictions-{hashlib.sha1(graph.encode()).hexdigest()[:16]}.nt"
    try:
        store.export_graph(graph, dump)
        suffix = f"<{graph}> .\n"
        with open(dump, encoding="utf-8") as lines:
            for line in lines:
                statement = line.rstrip()
                # N-Triples as the store writes it: one statement a line, "<subject> ... ."
                if statement and statement.split(" ", 1)[0] not in dropped:
                    out.write(statement[:-1] + suffix)
    finally:
        dump.unlink(missing_ok=True)


class _TextBuffer:
    """A text stream that keeps what is written, for an update's INSERT DATA."""

    def __init__(self):
        self._parts: list[str] = []

    def write(self, text: str) -> None:
        self._parts.append(text)

    def text(self) -> str:
        return "".join(self._parts)


# -- reading and dropping runs

@dataclass(frozen=True)
class RunSummary:
    graph: str
    run: str
    model: str
    started: str
    ended: str
    agents: tuple[str, ...]
    predictions: int
    artworks: int

    @property
    def run_id(self) -> str:
        return self.graph.rsplit("/", 1)[-1]


def list_runs(store: GraphStore) -> list[RunSummary]:
    """Every classification run in the store, newest first."""
    _, rows = store.select(load_query("prediction_runs").text)
    return [RunSummary(str(r["graph"]), str(r["run"]), str(r["model"]), str(r["started"]), str(r["ended"]),
                       tuple(str(r["agents"]).split()), int(r["predictions"].toPython()),
                       int(r["artworks"].toPython())) for r in rows]


def find_run(store: GraphStore, run: str, *, base_iri: str) -> RunSummary:
    """A run by its id (as `predictions list` shows it), its graph's IRI or its activity's IRI."""
    graph = run if run.startswith(predictions_graph_prefix(Minter(base_iri))) else None
    for summary in list_runs(store):
        if run in (summary.run_id, summary.graph, summary.run) or summary.graph == graph:
            return summary
    raise ResourceNotFoundError(f"no classification run {run!r} in the store; "
                                f"'heritage-kg predictions list' shows the runs")


@dataclass(frozen=True)
class StoredPrediction:
    artwork: str
    title: str | None
    concept: str
    label: str | None
    confidence: float
    rank: int


def run_predictions(store: GraphStore, summary: RunSummary) -> Iterator[StoredPrediction]:
    query = load_query("prediction_run_predictions")
    _, rows = store.select(query.text, query.bindings({"graph": URIRef(summary.graph)}))
    for row in rows:
        yield StoredPrediction(str(row["artwork"]), str(row["title"]) if "title" in row else None,
                               str(row["concept"]), str(row["conceptLabel"]) if "conceptLabel" in row else None,
                               float(row["confidence"].toPython()), int(row["rank"].toPython()))


def drop_run(store: GraphStore, summary: RunSummary) -> None:
    """Removes a run's predictions graph (the run and its predictions) by the store's publish:
    dropping a collection's run by an update would hold the store's writer, and every curator's
    update behind it, for as long as the deletion takes."""
    store.publish_graphs(lambda out: None, [summary.graph])
