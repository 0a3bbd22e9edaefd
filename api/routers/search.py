"""The search box: GET /search?q=... finds artworks by words of their title and artists by words
of their name, across collections, in the full-text index built with the graph (graph/search.py):
an HTML page of results, or JSON, by Accept. No SPARQL to write, and no query against the store."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api.dependencies import SettingsDep
from api.schemas import SearchAnswerModel, SearchHitModel
from api.templates import href, templates
from heritage_kg.errors import NotAcceptableError
from heritage_kg.graph.results import rank_media_types
from heritage_kg.graph.search import MAX_QUERY_CHARS, SearchIndex, index_location

router = APIRouter(tags=["search"])

HTML, JSON = "text/html", "application/json"


@router.get("/search", response_model=SearchAnswerModel, summary="Find artworks and artists by words",
            responses={200: {"content": {HTML: {}}}})
def search(request: Request, config: SettingsDep,
           q: str = Query("", max_length=MAX_QUERY_CHARS, description="Words of a title or a name; the last "
                                                                       "may be the start of a word."),
           kind: str | None = Query(None, description="artwork or artist (default: both)"),
           limit: int = Query(20, ge=1, le=200)) -> Response:
    """Every artwork whose title, and every artist whose name, has all the words of `q` (the last
    also as the start of a longer word), shortest first, with the number of matches; in HTML or
    JSON as the client's Accept prefers (HTML for a browser)."""
    ranked = rank_media_types(request.headers.get("accept"), (HTML, JSON))
    if not ranked:
        raise NotAcceptableError(f"the search answers in {HTML} or {JSON}")
    if ranked[0] == HTML:
        request.state.error_style = "html"
    answer = SearchIndex(index_location(config.store, config.search_index)).search(q, limit=limit, kind=kind)
    body = SearchAnswerModel(query=answer.query, total=answer.total, milliseconds=round(answer.seconds * 1000, 3),
                             hits=[SearchHitModel(**vars(hit), page=href(hit.iri)) for hit in answer.hits])
    if ranked[0] == JSON:
        return JSONResponse(body.model_dump(), headers={"Vary": "Accept"})
    return templates.TemplateResponse(request, "search.html", {"answer": body, "kind": kind},
                                      headers={"Vary": "Accept"})
