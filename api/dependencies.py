"""FastAPI dependencies: the settings, the one store the service reads, its query workers and
its result cache, as `Annotated` types the routers declare (`config: SettingsDep`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from api.query_workers import QueryWorkers
from api.result_cache import ResultCache
from heritage_kg.config import Settings, get_settings
from heritage_kg.graph.store import GraphStore, ServerEndpoints, open_store


# The dependencies are coroutines, though they do no I/O: FastAPI would run plain functions in
# its thread pool, a hand-off per dependency on every request.

async def settings(request: Request) -> Settings:
    """The settings the application was created with (create_app(settings)), else the environment's."""
    return getattr(request.app.state, "settings", None) or get_settings()


SettingsDep = Annotated[Settings, Depends(settings)]


@lru_cache
def _store(location: str, server: ServerEndpoints | None) -> GraphStore:
    # Read-only: the service reads; the one writer (SPARQL updates) opens the store only to write.
    return open_store(location, read_only=True, server=server)


async def get_store(config: SettingsDep) -> GraphStore:
    return _store(config.store, config.store_server_endpoints())


StoreDep = Annotated[GraphStore, Depends(get_store)]


@lru_cache
def _writer(location: str, server: ServerEndpoints | None) -> GraphStore:
    # One writer for the service's life: an embedded store keeps its generation open for writing
    # between updates, and hands it over when a build or another process needs it.
    return open_store(location, server=server)


def apply_update(config: Settings, update: str) -> None:
    """Runs a SPARQL update on the settings' store. Readers (the query workers, get_store()) see
    it at their next query: the store's data version moved on, so they reopen their read-only view."""
    _writer(config.store, config.store_server_endpoints()).update(update)


async def query_workers(request: Request) -> QueryWorkers:
    return request.app.state.query_workers


async def result_cache(request: Request) -> ResultCache:
    return request.app.state.result_cache


def service_parts(app) -> tuple[Settings, GraphStore, QueryWorkers, ResultCache]:
    """What the dependencies above give, for a route that does without FastAPI's dependency
    machinery (api.routers.sparql.query_route)."""
    config = getattr(app.state, "settings", None) or get_settings()
    store = _store(config.store, config.store_server_endpoints())
    return config, store, app.state.query_workers, app.state.result_cache


WorkersDep = Annotated[QueryWorkers, Depends(query_workers)]
CacheDep = Annotated[ResultCache, Depends(result_cache)]
