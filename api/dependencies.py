"""FastAPI dependencies: the settings, the one store the service reads, its query workers and
its result cache, as `Annotated` types the routers declare (`config: SettingsDep`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from api.query_workers import QueryWorkers
from api.result_cache import ResultCache
from heritage_kg.config import Settings, get_settings
from heritage_kg.graph.store import GraphStore, open_store


# The dependencies are coroutines, though they do no I/O: FastAPI would run plain functions in
# its thread pool, a hand-off per dependency on every request.

async def settings(request: Request) -> Settings:
    """The settings the application was created with (create_app(settings)), else the environment's."""
    return getattr(request.app.state, "settings", None) or get_settings()


SettingsDep = Annotated[Settings, Depends(settings)]


@lru_cache
def _store(location: str) -> GraphStore:
    # Read-only: the service reads; the one writer (SPARQL updates) opens the store only to write.
    return open_store(location, read_only=True)


async def get_store(config: SettingsDep) -> GraphStore:
    return _store(config.store)


StoreDep = Annotated[GraphStore, Depends(get_store)]


def apply_update(location: str, update: str) -> None:
    """Runs a SPARQL update with the store open for writing just for it, then has the service's
    readers open the store afresh (a read-only view does not see later writes)."""
    with open_store(location) as writer:
        writer.update(update)
    _store(location).close()


async def query_workers(request: Request) -> QueryWorkers:
    return request.app.state.query_workers


async def result_cache(request: Request) -> ResultCache:
    return request.app.state.result_cache


WorkersDep = Annotated[QueryWorkers, Depends(query_workers)]
CacheDep = Annotated[ResultCache, Depends(result_cache)]
