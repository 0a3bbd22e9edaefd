"""What the benchmark scripts share: where the real data is, a Tate store to measure on, servers
on loopback ports, and where results go (benchmarks/results/, not committed)."""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TATE_SOURCE = ROOT.parent / "shared" / "data" / "tate-collection.zip"
RESULTS = ROOT / "benchmarks" / "results"


def tate_store(store: str | None, source, prefix: str):
    """The store at `store` if one is built there (opened read-only), else a Tate store built
    from `source` into `store` or a temporary folder; with a note saying which."""
    from heritage_kg.graph.build import build_graph
    from heritage_kg.graph.store import open_store

    if store and Path(store, "current").exists():
        return open_store(store, read_only=True), f"existing store {store}"
    folder = store or tempfile.mkdtemp(prefix=prefix)
    built = open_store(folder)
    report = build_graph(built, "tate", str(source))
    return built, f"built from {source} into {folder} in {report.seconds:.0f} s"


def write_results(name: str, result) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    """Until `url` answers, or SystemExit if the server exits or stays silent for `seconds`."""
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.args}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


class KeepAliveClient:
    """An HTTP service asked from many threads, one keep-alive connection per thread; a subclass's
    `ask(item)` sends one request and returns its latency in seconds."""

    def __init__(self):
        self._local = threading.local()

    @property
    def http(self):
        import httpx

        if not hasattr(self._local, "client"):
            self._local.client = httpx.Client(timeout=600)
        return self._local.client

    def ask(self, item) -> float:
        raise NotImplementedError


def timed(service: KeepAliveClient, items: list, clients: int) -> dict:
    """Asks `items` (in order, spread over `clients` threads); latency figures in ms."""
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = sorted(pool.map(service.ask, items))
    wall = time.perf_counter() - started
    return {"clients": clients, "requests": len(items), "qps": len(items) / wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[max(0, int(0.95 * len(latencies)) - 1)]}
