"""FastAPI dependencies: the settings and the one store the service reads."""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request

from api.query_workers import QueryWorkers
from heritage_kg.config import Settings, get_settings
from heritage_kg.graph.store import GraphStore, open_store


def settings(request: Request) -> Settings:
    """The settings the application was created with (create_app(settings)), else the environment's."""
    return getattr(request.app.state, "settings", None) or get_settings()


@lru_cache
def _store(location: str) -> GraphStore:
    # Read-only: the service reads; the one writer (SPARQL updates) opens the store only to write.
    return open_store(location, read_only=True)


def get_store() -> GraphStore:
    return _store(get_settings().store)


@lru_cache
def _writer(location: str) -> GraphStore:
    # One writer for the service's life: an embedded store keeps its generation open for writing
    # between updates, and hands it over when a build or another process needs it.
    return open_store(location)


def apply_update(location: str, update: str) -> None:
    """Runs a SPARQL update. Readers (the query workers, get_store()) see it at their next query:
    the store's data version moved on, so they reopen their read-only view."""
    _writer(location).update(update)


def query_workers(request: Request) -> QueryWorkers:
    return request.app.state.query_workers
