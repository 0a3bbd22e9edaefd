"""The FastAPI application: `create_app()` wires the store and settings into the routers of
`api/routers/` (SPARQL endpoint, Linked Data, links across collections, curator's page, review,
search, status, classification, the offline API docs), and turns every typed error into its HTTP
answer in one place. Run by `heritage-kg serve`."""

from __future__ import annotations

import gc
import os
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image

from api.query_workers import QueryWorkers
from api.result_cache import ResultCache
from api.routers import classify, curator, docs, linked_data, links, review, search, sparql, status
from api.templates import templates
from heritage_kg import __version__
from heritage_kg.config import Settings, get_settings
from heritage_kg.errors import (ClassificationRequestError, HeritageKGError, ImageTooLargeError, LinkingError,
                                MalformedResourceError, NotAcceptableError, QueryError, QueryTimeoutError,
                                RemoteServiceError, ResourceNotFoundError, StoreError, UnknownModelError,
                                UpdateRefusedError)

ROUTERS = (sparql.router, linked_data.router, links.router, curator.router, review.router, search.router,
           status.router, classify.router, docs.router)

# Each kind of error a user can hit, and its HTTP status: the first kind that matches wins, so
# the more specific ones come first. Any other kind is the service's state, not the request's: 503.
ERROR_STATUS: tuple[tuple[type[HeritageKGError], int], ...] = (
    (NotAcceptableError, 406),
    (QueryTimeoutError, 503),
    (QueryError, 400),  # a malformed query, or a SERVICE the operator has not allowed
    (MalformedResourceError, 400),
    (LinkingError, 400),  # an unknown collection, links to the artwork's own, k out of range
    (ResourceNotFoundError, 404),
    (UpdateRefusedError, 403),
    (RemoteServiceError, 502),
    (StoreError, 503),
    (ImageTooLargeError, 413),
    (ClassificationRequestError, 400),  # nothing to classify, a title too long, not an image, truncated
    (UnknownModelError, 404),
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
    sent without a length are capped as they are read: api.routers.sparql.read_body). Paths in
    `larger` (an upload's) have their own limit and the setting that sets it; there a body sent
    without a length is read up to that limit before the route sees it, so that no upload
    spools more than the limit to disk."""

    def __init__(self, app, max_bytes: int, larger: dict[str, tuple[int, str]] | None = None):
        self.app, self.max_bytes, self.larger = app, max_bytes, larger or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"")
            limit, setting = self.larger.get(scope["path"], (self.max_bytes, "HERITAGE_KG_MAX_REQUEST_BYTES"))
            if length.isdigit() and int(length) > limit:
                return await self._refuse(f"{int(length):,} bytes", limit, setting, scope, receive, send)
            if not length.isdigit() and scope["path"] in self.larger:
                body, more = b"", True
                while more and len(body) <= limit:
                    message = await receive()
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                if len(body) > limit:
                    return await self._refuse(f"over {limit:,} bytes", limit, setting, scope, receive, send)
                receive = _replay(body, receive)
        return await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(size: str, limit: int, setting: str, scope, receive, send):
        response = JSONResponse({"detail": f"the request body is {size}; the service takes at most {limit:,} "
                                           f"({setting})"}, status_code=413)
        return await response(scope, receive, send)


def _replay(body: bytes, receive):
    """An ASGI `receive` that gives the body already read, then passes on what the client sends
    next (its disconnection)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        workers = QueryWorkers(settings.store, settings.sparql_workers or max(2, os.cpu_count() or 2),
                               settings.sparql_timeout_s, settings.store_server_endpoints())
        workers.start()
        app.state.query_workers = workers
        # Pillow's own guard against decompression bombs, at the service's limit, for as long as it
        # serves (uploads are checked against it from their header first: inference.predict.decode_upload).
        pillow_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, settings.classify_max_image_pixels
        # What start-up made (routers, templates, rdflib's and pydantic's tables) lives as long as
        # the service: kept out of the collector's full scans (about 50 ms each, on whichever
        # request they land).
        gc.freeze()
        try:
            yield
        finally:
            workers.close()
            Image.MAX_IMAGE_PIXELS = pillow_limit

    # The docs' page is api/routers/docs.py's, with its assets served here, not from a CDN.
    app = FastAPI(title="heritage-kg", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="SPARQL endpoint, Linked Data and subject classification for the heritage-kg "
                              "knowledge graph.")
    app.state.settings = settings
    app.state.result_cache = ResultCache(settings.sparql_cache_bytes)
    app.state.classifiers = classify.LoadedModels()
    app.add_exception_handler(HeritageKGError, error_answer)
    # An upload to /classify may carry an image and a few form fields besides.
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes,
                       larger={"/classify": (settings.classify_max_image_bytes + 64 * 1024,
                                             "HERITAGE_KG_CLASSIFY_MAX_IMAGE_BYTES")})
    app.router.routes.append(sparql.query_route)  # before the routers: it answers /sparql
    for router in ROUTERS:
        app.include_router(router)
    return app
