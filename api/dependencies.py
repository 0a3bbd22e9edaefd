"""FastAPI dependencies: the settings, the one store the service reads, its query workers, its
result cache and its artwork linker, as `Annotated` types the routers declare (`config: SettingsDep`)."""

from __future__ import annotations

import asyncio
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from api.query_workers import QueryWorkers
from api.result_cache import ResultCache
from heritage_kg.config import Settings, get_settings
from heritage_kg.graph.store import GraphStore, ServerEndpoints, open_store
from heritage_kg.inference.linking import ArtworkLinker


# The dependencies are coroutines, though they do no I/O: FastAPI would run plain functions in
# its thread pool, a hand-off per dependency on every request.

async def settings(request: Request) -> Settings:
    """The settings the application was created with (create_app(settings)), else the environment's."""
    return getattr(request.app.state, "settings", None) or get_settings()


SettingsDep = Annotated[Settings, Depends(settings)]


# A service reads one store; a few entries cover the apps of one process (tests make many), and
# an entry let go closes its store and frees its caches.
_OPEN_STORES = 4


@lru_cache(maxsize=_OPEN_STORES)
def _store(location: str, server: ServerEndpoints | None) -> GraphStore:
    # Read-only: the service reads; the one writer (SPARQL updates) opens the store only to write.
    return open_store(location, read_only=True, server=server)


async def get_store(config: SettingsDep) -> GraphStore:
    return _store(config.store, config.store_server_endpoints())


StoreDep = Annotated[GraphStore, Depends(get_store)]


@lru_cache(maxsize=_OPEN_STORES)
def _writer(location: str, server: ServerEndpoints | None) -> GraphStore:
    # One writer for the service's life: an embedded store keeps its generation open for writing
    # between updates, and hands it over when a build or another process needs it.
    return open_store(location, server=server)


def apply_update(config: Settings, update: str) -> None:
    """Runs a SPARQL update on the settings' store. Readers (the query workers, get_store()) see
    it at their next query: the store's data version moved on, so they reopen their read-only view."""
    _writer(config.store, config.store_server_endpoints()).update(update)


_updates_one_at_a_time = asyncio.Lock()


def require_update_token(request: Request, config: Settings) -> None:
    """Writes (SPARQL updates, curators' reviews) need the service's token as a Bearer token:
    403 when updates are off or the token is wrong, 401 when none is sent."""
    if not config.update_token:
        raise HTTPException(403, "updates are off on this service; its operator enables them by setting "
                                 "HERITAGE_KG_UPDATE_TOKEN")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "updates need 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(token.strip().encode(), config.update_token.encode()):
        raise HTTPException(403, "the update token is wrong")


async def apply_curator_update(config: Settings, workers: QueryWorkers, update: str) -> None:
    """Runs an update (already checked to write only curator graphs, or prepared by the service
    for a curator: a review, a write-back) through the service's one writer, one at a time, and
    returns once the query workers read it: reads that follow see it, and none waits."""
    async with _updates_one_at_a_time:
        await run_in_threadpool(apply_update, config, update)
        await workers.catch_up()


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


@lru_cache(maxsize=_OPEN_STORES)
def _artwork_linker(location: str, server: ServerEndpoints | None, base_iri: str, features_dir: Path) -> ArtworkLinker:
    # One for the service's life: it keeps the collections it read until the store's data changes.
    return ArtworkLinker(_store(location, server), base_iri=base_iri, features_dir=features_dir)


def linker_for(config: Settings) -> ArtworkLinker:
    """The service's artwork linker, for a route that needs it only on some requests
    (POST /classify?links=true)."""
    return _artwork_linker(config.store, config.store_server_endpoints(), config.base_iri, config.features_dir)


async def artwork_linker(config: SettingsDep) -> ArtworkLinker:
    return linker_for(config)


LinkerDep = Annotated[ArtworkLinker, Depends(artwork_linker)]
WorkersDep = Annotated[QueryWorkers, Depends(query_workers)]
CacheDep = Annotated[ResultCache, Depends(result_cache)]
