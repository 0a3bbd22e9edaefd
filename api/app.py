"""The FastAPI application: `create_app()` wires the store and settings into the routers of
`api/routers/` (SPARQL endpoint, Linked Data, curator's page, status), and turns every typed
error into its HTTP answer in one place. Run by `heritage-kg serve`."""

from __future__ import annotations

import gc
import os
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from api.query_workers import QueryWorkers
from api.result_cache import ResultCache
from api.routers import curator, linked_data, sparql, status
from api.templates import templates
from heritage_kg import __version__
from heritage_kg.config import Settings, get_settings
from heritage_kg.errors import (HeritageKGError, MalformedResourceError, NotAcceptableError, QueryError,
                                QueryTimeoutError, RemoteServiceError, ResourceNotFoundError, StoreError,
                                UpdateRefusedError)

ROUTERS = (sparql.router, linked_data.router, curator.router, status.router)

# Each kind of error a user can hit, and its HTTP status: the first kind that matches wins, so
# the more specific ones come first. Any other kind is the service's state, not the request's: 503.
ERROR_STATUS: tuple[tuple[type[HeritageKGError], int], ...] = (
    (NotAcceptableError, 406),
    (QueryTimeoutError, 503),
    (QueryError, 400),  # a malformed query, or a SERVICE the operator has not allowed
    (MalformedResourceError, 400),
    (ResourceNotFoundError, 404),
    (UpdateRefusedError, 403),
    (RemoteServiceError, 502),
    (StoreError, 503),
)


def status_of(error: HeritageKGError) -> int:
    return next((status for kind, status in ERROR_STATUS if isinstance(error, kind)), 503)


async def error_answer(request: Request, error: HeritageKGError) -> Response:
    """The answer to a typed error: JSON `{"detail": ...}` as FastAPI gives for its own errors,
    or, where the route said its client reads pages (`request.state.error_style`), an HTML page or
    one line of text."""
    status = status_of(error)
    style = getattr(request.state, "error_style", "json")
    if style == "html":
        return templates.TemplateResponse(request, "error.html", {"status": status, "message": str(error),
                                                                  "reason": HTTPStatus(status).phrase},
                                          status_code=status)
    if style == "text":
        return Response(f"{status} {HTTPStatus(status).phrase}: {error}\n", status_code=status,
                        media_type="text/plain")
    return JSONResponse({"detail": str(error)}, status_code=status)


class RequestSizeLimit:
    """413 for a body whose declared length is over the limit, before anything reads it (bodies
    sent without a length are capped as they are read: api.routers.sparql.read_body)."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > self.max_bytes:
                response = JSONResponse({"detail": f"the request body is {int(length):,} bytes; the service takes "
                                                   f"at most {self.max_bytes:,} (HERITAGE_KG_MAX_REQUEST_BYTES)"},
                                        status_code=413)
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        workers = QueryWorkers(settings.store, settings.sparql_workers or max(2, os.cpu_count() or 2),
                               settings.sparql_timeout_s, settings.store_server_endpoints())
        workers.start()
        app.state.query_workers = workers
        # What start-up made (routers, templates, rdflib's and pydantic's tables) lives as long as
        # the service: kept out of the collector's full scans (about 50 ms each, on whichever
        # request they land).
        gc.freeze()
        try:
            yield
        finally:
            workers.close()

    app = FastAPI(title="heritage-kg", version=__version__, lifespan=lifespan,
                  description="SPARQL endpoint and Linked Data for the heritage-kg knowledge graph.")
    app.state.settings = settings
    app.state.result_cache = ResultCache(settings.sparql_cache_bytes)
    app.add_exception_handler(HeritageKGError, error_answer)
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.router.routes.append(sparql.query_route)  # before the routers: it answers /sparql
    for router in ROUTERS:
        app.include_router(router)
    return app
