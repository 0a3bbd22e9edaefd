"""Shared test fixtures: the small hand-written collections under tests/fixtures/, stores built
from them, and the real archives of ../shared/data/ (skipped, saying so, where absent)."""

from __future__ import annotations

import json
import os
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

from heritage_kg.config import get_settings
from heritage_kg.graph.build import build_graph
from heritage_kg.graph.store import GraphStore, open_store, server_endpoints
from sparql_engines import Virtuoso, virtuoso_server

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TATE_FIXTURE = FIXTURES / "tate"
CMOA_FIXTURE = FIXTURES / "cmoa"
SHARED_DATA = Path(os.environ.get("HERITAGE_KG_SHARED_DATA", ROOT.parent / "shared" / "data"))
TATE_ZIP = SHARED_DATA / "tate-collection.zip"
CMOA_ZIP = SHARED_DATA / "cmoa-collection.zip"
AUTHORITIES = SHARED_DATA / "authorities"


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory):
    """No test writes into the working tree's data/ folder."""
    cache = tmp_path_factory.mktemp("cache")
    os.environ["HERITAGE_KG_CACHE_DIR"] = str(cache)
    os.environ.pop("HERITAGE_KG_STORE", None)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def require_real_data(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"real data not found ({', '.join(missing)}): put the shared archives in {SHARED_DATA}")


def store_of_fixtures(location, tate=TATE_FIXTURE, cmoa=CMOA_FIXTURE):
    """The store at `location` (a folder, a server URL or an open store) with the Tate and CMOA
    fixtures (or the collection folders given) built in."""
    store = location if isinstance(location, GraphStore) else open_store(location)
    build_graph(store, "tate", str(tate))
    build_graph(store, "cmoa", str(cmoa))
    return store


@pytest.fixture(autouse=True, scope="module")
def _release_service_caches():
    """The apps a test module makes open stores and artwork linkers that the service's caches
    keep (api/dependencies.py); they go with the module, so the process that runs the whole suite
    does not hold every one of them."""
    yield
    import gc

    from api import dependencies

    for cached in (dependencies._store, dependencies._writer, dependencies._artwork_linker):
        cached.cache_clear()
    gc.collect()


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """The test session's private Virtuoso (`make test` installs it; skipped, saying so, where it
    is missing): its own folder, ini and loopback ports, stopped at the end of the session. Tests
    take it in turn through `virtuoso_store`, which empties it after each."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@contextmanager
def virtuoso_store(server: Virtuoso):
    """A server store on the session's Virtuoso, as the `virtuoso` preset reaches it; every graph
    it made is dropped on exit."""
    store = open_store(server.url, server=server_endpoints(server.url, "virtuoso", user=server.user,
                                                            password=server.password))
    try:
        yield store
    finally:
        for graph in store.named_graphs():
            store.update(f"DROP SILENT GRAPH <{graph}>")
        store.close()


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory):
    """An embedded store holding the Tate and CMOA test fixtures."""
    store = store_of_fixtures(tmp_path_factory.mktemp("fixture-store") / "store")
    yield store
    store.close()


@pytest.fixture(scope="session")
def real_store(tmp_path_factory):
    """An embedded store holding the full real Tate collection and CMOA beside it (about a
    minute to build; shared by every real-data test of the session)."""
    require_real_data(TATE_ZIP, CMOA_ZIP)
    store = open_store(tmp_path_factory.mktemp("real-store") / "store")
    build_graph(store, "tate", str(TATE_ZIP))
    build_graph(store, "cmoa", str(CMOA_ZIP))
    yield store
    store.close()


@pytest.fixture(scope="session")
def real_links(real_store, tmp_path_factory):
    """One artist-linking run over the real Tate and CMOA store with the real authority files
    (the store's graphs are copied once into the new generation: about half a minute)."""
    from heritage_kg.graph.linking import link_artists

    require_real_data(AUTHORITIES)
    return link_artists(real_store, base_iri=get_settings().base_iri, authorities_dir=AUTHORITIES,
                        links_dir=tmp_path_factory.mktemp("links"))


class ZipRecord(NamedTuple):
    """What the real-data tests compare against, read straight from a Tate artwork's JSON."""

    tree: set[tuple[str, str]]  # its subject tree: (concept id, parent id or "" for a top-level subject)
    thumbnail: str | None
    start_year: int | None  # dateRange.startYear: an int, or a string of digits ("2005"); else none
    catalogue_group: str | None  # catalogueGroup.id


@pytest.fixture(scope="session")
def tate_zip_records() -> dict[str, ZipRecord]:
    """Every real Tate artwork record, by accession number, read from the zip without the code
    under test."""
    require_real_data(TATE_ZIP)
    records = {}

    def edges(node, parent, into):
        for child in node.get("children") or []:
            into.add((str(child["id"]), parent))
            edges(child, str(child["id"]), into)
        return into

    with zipfile.ZipFile(TATE_ZIP) as archive:
        for name in archive.namelist():
            if "/artworks/" in name and name.endswith(".json"):
                record = json.loads(archive.read(name))
                start = (record.get("dateRange") or {}).get("startYear")
                group = (record.get("catalogueGroup") or {}).get("id")
                records[record["acno"]] = ZipRecord(
                    edges(record.get("subjects") or {}, "", set()), record.get("thumbnailUrl") or None,
                    int(start) if isinstance(start, int) or str(start).isdigit() else None,
                    str(group) if group is not None else None)
    return records


@pytest.fixture(scope="session")
def cmoa_zip_counts() -> tuple[int, int]:
    """The real CMOA archive's objects (one JSON file each under cmoa/) and distinct creators (by
    artist_id), counted from the zip without the code under test."""
    require_real_data(CMOA_ZIP)
    objects, creators = 0, set()
    with zipfile.ZipFile(CMOA_ZIP) as archive:
        for name in archive.namelist():
            if "/cmoa/" in name and name.endswith(".json"):
                objects += 1
                creators.update(c["artist_id"] for c in json.loads(archive.read(name)).get("creator") or []
                                if c.get("artist_id"))
    return objects, len(creators)
