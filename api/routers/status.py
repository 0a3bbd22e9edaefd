"""The service's state as JSON at /status: its version, the store and the data version answers
are read from, the query workers, and the result cache's entries, size and hit ratio."""

from __future__ import annotations

from fastapi import APIRouter

from api.dependencies import CacheDep, SettingsDep, StoreDep, WorkersDep
from heritage_kg import __version__

router = APIRouter(tags=["status"])


@router.get("/status", summary="The service's state and its result cache")
def service_status(config: SettingsDep, store: StoreDep, workers: WorkersDep, cache: CacheDep) -> dict:
    return {"version": __version__, "store": config.store, "data_version": store.data_version(),
            "query_workers": workers.size, "result_cache": cache.status(),
            "service_allow": list(config.sparql_service_allow)}
