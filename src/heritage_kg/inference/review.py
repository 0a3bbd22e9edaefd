"""Curators' review of model predictions: a verdict (accepted, rejected) on one prediction,
written into the curator graph `graph/curator/reviews` with its provenance, the open predictions
of a task in the order a curator's time is best spent on them, and the predictions about one
artwork beside the verdicts given on them (for its page).

An accepted prediction becomes a curator annotation (`<artwork> hk:subject <concept>` in the
reviews graph) that later training sets learn from (`dataset build --include-accepted`); a
rejected one is kept as a negative judgement and never becomes a label. A review keeps the
prediction's artwork and concept on itself, so it outlives a newer run that replaces the
prediction; reviewing again replaces the same curator's earlier verdict on that artwork and concept."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from rdflib import Literal, URIRef

from heritage_kg.errors import MalformedResourceError, QueryError, ResourceNotFoundError
from heritage_kg.graph.namespaces import XSD, Minter
from heritage_kg.graph.nquads import is_writable_iri
from heritage_kg.graph.queries import inline_bindings, load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.graph.updates import check_curator_update, reviews_graph

# A curator's name becomes the last segment of their agent IRI: letters, digits, '.', '_', '-'.
CURATOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_QUEUE_SIZE = 50


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Review:
    """A verdict as recorded: the review's IRI, what it judged, by whom and when."""

    review: str
    prediction: str
    artwork: str
    concept: str
    verdict: Verdict
    curator: str  # the curator's agent IRI
    time: datetime


def curator_agent(base_iri: str, name: str) -> str:
    """The agent IRI of a curator by name: `{base}agent/curator/{name}`."""
    if not CURATOR_NAME.fullmatch(name):
        raise MalformedResourceError(f"a curator's name is 1 to 64 letters, digits, '.', '_' or '-' "
                                     f"(starting with a letter or digit), not {name!r}")
    return f"{Minter(base_iri).base}agent/curator/{name}"


def prepare_review(store: GraphStore, prediction: str, verdict: Verdict | str, curator: str, *,
                   base_iri: str, at: datetime | None = None) -> tuple[Review, str]:
    """The review of `prediction` by the curator named `curator`, and the SPARQL update that
    records it (checked to write only the curator graph). ResourceNotFoundError when the graph
    holds no such prediction (unknown, or replaced by a newer run of its model)."""
    verdict = _verdict(verdict)
    agent = curator_agent(base_iri, curator)
    minter = Minter(base_iri)
    if not (prediction.startswith(f"{minter.base}prediction/") and is_writable_iri(prediction)):
        raise ResourceNotFoundError(f"<{prediction}> is not a prediction of this graph: predictions are "
                                    f"named {minter.base}prediction/...")
    found = load_query("review_prediction")
    _, rows = store.select(found.text, found.bindings({"prediction": URIRef(prediction)}))
    if not rows:
        raise ResourceNotFoundError(f"the graph holds no prediction <{prediction}>: unknown, or replaced by a "
                                    f"newer run of its model; reload the artwork's predictions and review those")
    review = Review(f"{minter.base}review/{uuid.uuid4()}", prediction, str(rows[0]["artwork"]),
                    str(rows[0]["concept"]), verdict, agent, at or datetime.now(UTC))
    record = load_query("review_record")
    update = inline_bindings(record.text, record.bindings({
        "reviews": URIRef(reviews_graph(base_iri)), "review": URIRef(review.review),
        "prediction": URIRef(prediction), "artwork": URIRef(review.artwork), "concept": URIRef(review.concept),
        "curator": URIRef(agent), "verdict": Literal(verdict.value),
        "time": Literal(review.time.isoformat(), datatype=URIRef(XSD + "dateTime"))}))
    check_curator_update(update, base_iri)
    return review, update


def record_review(store: GraphStore, prediction: str, verdict: Verdict | str, curator: str, *,
                  base_iri: str, at: datetime | None = None) -> Review:
    """Reviews a prediction in `store` (see `prepare_review`); the service runs the same update
    through its one writer instead (api/routers/review.py)."""
    review, update = prepare_review(store, prediction, verdict, curator, base_iri=base_iri, at=at)
    store.update(update)
    return review


def _verdict(value: Verdict | str) -> Verdict:
    try:
        return Verdict(value)
    except ValueError:
        raise MalformedResourceError(f"a verdict is 'accepted' or 'rejected', not {value!r}") from None


# --- the review queue

@dataclass(frozen=True)
class OpenPrediction:
    """A prediction no curator has judged, and why it stands where it does in the queue."""

    prediction: str
    artwork: str
    title: str | None
    collection: str | None
    concept: str
    concept_label: str | None
    confidence: float
    model: str
    ended: str
    uncertainty: float  # the binary entropy of the confidence, in bits: 1 at 0.5, 0 at 0 or 1
    examples: int  # artworks annotated with the concept (or a narrower one)
    priority: float


def queue_priority(confidence: float, examples: int) -> float:
    """Where a curator's minute is best spent: H(p) / log2(2 + n), with H(p) = -p log2 p -
    (1-p) log2(1-p) the binary entropy of the model's confidence p (1 bit at p = 0.5, where the
    model is least sure) and n the number of artworks annotated with the concept or a narrower
    one (a concept with few examples is where a label teaches the next model most). Higher first."""
    return binary_entropy(confidence) / math.log2(2 + max(examples, 0))


def binary_entropy(confidence: float) -> float:
    """-p log2 p - (1-p) log2(1-p), in bits; 0 at p = 0 or 1."""
    p = min(max(confidence, 0.0), 1.0)
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def review_tasks(store: GraphStore) -> list[tuple[str, str]]:
    """Every task a curator can review, as (IRI, label), by label."""
    _, rows = store.select(load_query("review_tasks").text)
    return [(str(r["task"]), str(r["label"])) for r in rows]


def resolve_task(store: GraphStore, task: str) -> str:
    """A task's IRI from its label ("nature") or IRI; ResourceNotFoundError for none."""
    query = load_query("review_task")
    _, rows = store.select(query.text, query.bindings({"name": Literal(task)}))
    if not rows:
        raise ResourceNotFoundError(f"no task {task!r}: name a top-level subject by its label (e.g. nature) or IRI")
    if len({str(r["task"]) for r in rows}) > 1:
        raise QueryError(f"{task!r} names several tasks ({', '.join(sorted(str(r['task']) for r in rows))}); "
                         f"give its IRI")
    return str(rows[0]["task"])


def review_queue(store: GraphStore, task: str, *, limit: int = DEFAULT_QUEUE_SIZE
                 ) -> tuple[str, list[OpenPrediction]]:
    """The task's IRI (`task` is its label or IRI) and its open predictions, highest
    `queue_priority` first (ties: the prediction's IRI), at most `limit`. Every open prediction
    of the task is scored, and only those returned are read in full."""
    task_iri = URIRef(resolve_task(store, task))
    counts = load_query("review_concept_examples")
    examples = {str(r["concept"]): int(r["artworks"].toPython())
                for r in store.select(counts.text, counts.bindings({"task": task_iri}))[1]}
    candidates = load_query("review_queue")
    # pyoxigraph's own terms (`.value`): a model's run over a collection leaves tens of thousands
    # of open predictions, and turning each into rdflib terms would take longer than the query
    scored = []
    for solution in store.raw_query(inline_bindings(candidates.text, candidates.bindings({"task": task_iri}))):
        concept, confidence = solution["concept"].value, float(solution["confidence"].value)
        n = examples.get(concept, 0)
        scored.append((-queue_priority(confidence, n), solution["prediction"].value, concept, confidence, n))
    scored.sort()
    entry = load_query("review_queue_entry")
    queue = []
    for negative_priority, prediction, concept, confidence, n in scored[:max(limit, 0)]:
        _, rows = store.select(entry.text, entry.bindings({"prediction": URIRef(prediction)}))
        if not rows:
            continue  # replaced by a newer run between the two reads
        row = rows[0]
        queue.append(OpenPrediction(
            prediction, str(row["artwork"]), _text(row.get("title")), _text(row.get("collection")), concept,
            _text(row.get("conceptLabel")), confidence, str(row["model"]), str(row["ended"]),
            binary_entropy(confidence), n, -negative_priority))
    return str(task_iri), queue


# --- an artwork's predictions and the verdicts on them (its page)

@dataclass(frozen=True)
class PredictionUnderReview:
    prediction: str
    concept: str
    concept_label: str | None
    confidence: float
    rank: int
    model: str
    run: str
    ended: str
    verdicts: list[Review]  # the curators' verdicts on this artwork and concept, newest first


def artwork_predictions(store: GraphStore, artwork: str) -> list[PredictionUnderReview]:
    """The predictions about an artwork (newest run first, then by rank), each with the verdicts
    curators gave on its concept for this artwork."""
    term = {"artwork": URIRef(artwork)}
    verdicts: dict[str, list[Review]] = {}
    query = load_query("review_verdicts_for_artwork")
    for row in store.select(query.text, query.bindings(term))[1]:
        verdicts.setdefault(str(row["concept"]), []).append(Review(
            str(row["review"]), str(row["prediction"]), artwork, str(row["concept"]), Verdict(str(row["verdict"])),
            str(row["curator"]), row["time"].toPython()))
    query = load_query("predictions_for_artwork")
    return [PredictionUnderReview(str(r["prediction"]), str(r["concept"]), _text(r.get("conceptLabel")),
                                  float(r["confidence"].toPython()), int(r["rank"].toPython()), str(r["model"]),
                                  str(r["run"]), str(r["ended"]), verdicts.get(str(r["concept"]), []))
            for r in store.select(query.text, query.bindings(term))[1]]


def _text(term) -> str | None:
    return None if term is None else str(term)
