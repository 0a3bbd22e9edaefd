"""Curators' review of model predictions: POST /review records a verdict (accepted or rejected)
in the curator graph, with the service's Bearer token; GET /review?task=... is the queue of open
predictions, where a curator's minute counts most first: JSON, or for a browser the review page,
whose accept/reject buttons post to POST /review. Thin: inference/review.py does the work."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.dependencies import SettingsDep, StoreDep, WorkersDep, apply_curator_update, require_update_token
from api.schemas import ReviewAnswer, ReviewQueue, ReviewRequest
from api.templates import templates
from heritage_kg.errors import NotAcceptableError
from heritage_kg.graph.results import rank_media_types
from heritage_kg.inference import review

router = APIRouter(tags=["review"])

JSON, HTML = "application/json", "text/html"


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


@router.get("/review", response_model=ReviewQueue, summary="The review queue of a task",
            responses={200: {"content": {HTML: {}}}})
async def review_queue(request: Request, store: StoreDep,
                       task: str | None = Query(None, description="A task: its label (nature) or IRI. Required "
                                                                  "for JSON; the page lets the curator choose."),
                       limit: int = Query(review.DEFAULT_QUEUE_SIZE, ge=1, le=1000)) -> Response:
    """The open predictions of a task (no curator's verdict on that artwork and concept yet, and
    not already annotated), highest priority first: priority = H(p) / log2(2 + n), where H(p) is
    the binary entropy of the model's confidence p (1 bit at p = 0.5, where the model is least
    sure) and n the number of artworks annotated with the concept or a narrower one (few
    examples: a label teaches the next model most). JSON, or the review page (with accept and
    reject buttons) where the client's Accept prefers HTML, as a browser's does."""
    ranked = rank_media_types(request.headers.get("accept"), (JSON, HTML))
    if not ranked:
        raise NotAcceptableError(f"the review queue answers in {JSON} or {HTML}")
    if ranked[0] == HTML:
        request.state.error_style = "html"
        tasks = await run_in_threadpool(review.review_tasks, store)
        queue = await run_in_threadpool(review.review_queue, store, task, limit=limit) if task else None
        return templates.TemplateResponse(request, "review.html", {"tasks": tasks, "queue": queue, "limit": limit},
                                          headers={"Vary": "Accept"})
    if task is None:
        raise HTTPException(422, "name the task to review: ?task=nature (a top-level subject's label or IRI)")
    task_iri, entries = await run_in_threadpool(review.review_queue, store, task, limit=limit)
    return JSONResponse(ReviewQueue(task=task_iri, open=entries).model_dump(mode="json"), headers={"Vary": "Accept"})
