"""The FastAPI application: `create_app()` wires the store and settings into the routers of
`api/routers/` (SPARQL endpoint, Linked Data, curator's page). Run by `heritage-kg serve`."""

from __future__ import annotations

import importlib
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from api.query_workers import QueryWorkers
from heritage_kg import __version__
from heritage_kg.config import Settings, get_settings

ROUTERS = ("sparql", "linked_data", "curator")


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
                               settings.sparql_timeout_s)
        workers.start()
        app.state.query_workers = workers
        try:
            yield
        finally:
            workers.close()

    app = FastAPI(title="heritage-kg", version=__version__, lifespan=lifespan,
                  description="SPARQL endpoint and Linked Data for the heritage-kg knowledge graph.")
    app.state.settings = settings

    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    for name in ROUTERS:
        try:
            module = importlib.import_module(f"api.routers.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"api.routers.{name}":
                raise
            continue
        app.include_router(module.router)
    return app
