"""The FastAPI application: `create_app()` wires the store and settings into the routers of
`api/routers/` (SPARQL endpoint, Linked Data, curator's page). Run by `heritage-kg serve`."""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from heritage_kg import __version__

ROUTERS = ("sparql", "linked_data", "curator")


def create_app() -> FastAPI:
    app = FastAPI(title="heritage-kg", version=__version__,
                  description="SPARQL endpoint and Linked Data for the heritage-kg knowledge graph.")
    for name in ROUTERS:
        try:
            module = importlib.import_module(f"api.routers.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"api.routers.{name}":
                raise
            continue
        app.include_router(module.router)
    return app
