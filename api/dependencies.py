"""FastAPI dependencies: the settings and the one store the service reads."""

from __future__ import annotations

from functools import lru_cache

from heritage_kg.config import Settings, get_settings
from heritage_kg.graph.store import GraphStore, open_store


def settings() -> Settings:
    return get_settings()


@lru_cache
def _store(location: str) -> GraphStore:
    return open_store(location)


def get_store() -> GraphStore:
    return _store(get_settings().store)
