"""The one interface through which the platform reaches its graph store.

`open_store(location)` gives the embedded backend (pyoxigraph on disk, `embedded.py`) for a
folder, or the server backend (a SPARQL 1.1 server, `server.py`) for an http(s) URL, at the
endpoints `server` names (`endpoints.py`; an Oxigraph server's by default). Backends are
registered by name and imported only when first opened, so this package imports neither, and
neither imports this face. Nothing else in the project imports pyoxigraph for storage."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from heritage_kg.graph.store.base import GraphStore, Row, declares_dataset, to_rdflib
from heritage_kg.graph.store.endpoints import ServerEndpoints, server_endpoints

__all__ = ["GraphStore", "Row", "ServerEndpoints", "backend", "declares_dataset", "is_server_location", "open_store",
           "register_backend", "server_endpoints", "to_rdflib",
           "EmbeddedStore", "SparqlServerStore"]

# name -> "module:Class", imported on first use
_BACKENDS: dict[str, str] = {}
# the public names of the built-in backends, resolved lazily through __getattr__
_BACKEND_CLASSES = {"EmbeddedStore": "embedded", "SparqlServerStore": "server"}


def register_backend(name: str, target: str) -> None:
    """Makes the class at `target` ("package.module:Class") the backend called `name`."""
    _BACKENDS[name] = target


def backend(name: str) -> type[GraphStore]:
    module, _, cls = _BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


register_backend("embedded", "heritage_kg.graph.store.embedded:EmbeddedStore")
register_backend("server", "heritage_kg.graph.store.server:SparqlServerStore")


def is_server_location(location: str | os.PathLike) -> bool:
    """An http(s) URL names a SPARQL server; anything else a folder."""
    return str(location).startswith(("http://", "https://"))


def open_store(location: str | os.PathLike, *, read_only: bool = False,
               server: ServerEndpoints | None = None) -> GraphStore:
    """The store at `location`: an http(s) URL is a SPARQL server (at the `server` endpoints
    when given, else Oxigraph's layout under the URL), anything else a folder."""
    text = str(location)
    if is_server_location(text):
        return backend("server")(server or text)
    return backend("embedded")(Path(text), read_only=read_only)


def __getattr__(name: str):
    if name in _BACKEND_CLASSES:
        return backend(_BACKEND_CLASSES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
