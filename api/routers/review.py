"""Curators' review of model predictions: POST /review records a verdict (accepted or rejected)
in the curator graph, with the service's Bearer token; GET /review?task=... is the queue of open
predictions, where a curator's minute counts most first. Thin: inference/review.py does the work."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.dependencies import SettingsDep, StoreDep, WorkersDep, apply_curator_update, require_update_token
from api.schemas import ReviewAnswer, ReviewQueue, ReviewRequest
from heritage_kg.inference import review

router = APIRouter(tags=["review"])


@router.post("/review", response_model=ReviewAnswer, summary="Accept or reject a prediction (curator token)")
async def review_prediction(body: ReviewRequest, request: Request, config: SettingsDep, store: StoreDep,
                            workers: WorkersDep) -> ReviewAnswer:
    """Records a curator's verdict on a prediction in `graph/curator/reviews`: a hk:SubjectReview
    attributed to the curator (`{base}agent/curator/{curator}`), derived from the prediction,
    with its artwork and concept; an accepted prediction also becomes the curator annotation
    `<artwork> hk:subject <concept>`. Reviewing again replaces the same curator's verdict on that
    artwork and concept. 404 for a prediction the graph does not hold (unknown, or replaced by a
    newer run of its model); 401/403 without the right token."""
    require_update_token(request, config)
    recorded, update = await run_in_threadpool(review.prepare_review, store, body.prediction, body.verdict,
                                               body.curator, base_iri=config.base_iri)
    await apply_curator_update(config, workers, update)
    return ReviewAnswer(review=recorded.review, prediction=recorded.prediction, artwork=recorded.artwork,
                        concept=recorded.concept, verdict=recorded.verdict, curator=recorded.curator,
                        time=recorded.time)


@router.get("/review", response_model=ReviewQueue, summary="The review queue of a task")
async def review_queue(store: StoreDep, task: str = Query(description="A task: its label (nature) or IRI."),
                       limit: int = Query(review.DEFAULT_QUEUE_SIZE, ge=1, le=1000)) -> ReviewQueue:
    """The open predictions of a task (no curator's verdict on that artwork and concept yet, and
    not already annotated), highest priority first: priority = H(p) / log2(2 + n), where H(p) is
    the binary entropy of the model's confidence p (1 bit at p = 0.5, where the model is least
    sure) and n the number of artworks annotated with the concept or a narrower one (few
    examples: a label teaches the next model most)."""
    task_iri, entries = await run_in_threadpool(review.review_queue, store, task, limit=limit)
    return ReviewQueue(task=task_iri, open=entries)
