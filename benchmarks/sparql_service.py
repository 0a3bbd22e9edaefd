"""The SPARQL service under load: eight typical curator queries at 1, 8 and 32 concurrent clients,
p50/p95 latency and queries per second, side by side for
  in-process   pyoxigraph on the same store, no HTTP (the limit),
  service      `heritage-kg serve` over HTTP (this project),
  oxigraph     `oxigraph serve-read-only` on the same data (the peer).
Prints a table and writes benchmarks/results/sparql_service.json.

    .venv/bin/python benchmarks/sparql_service.py --store /tmp/hk-real-store
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyoxigraph as ox
from rdflib import URIRef

from heritage_kg.graph.queries import inline_bindings, load_query

from _common import write_results
JSON_RESULTS = "application/sparql-results+json"

# (what a curator asks, the named query, its parameters)
CURATOR_QUERIES = [
    ("lookup: one artwork", "artwork_summary",
     {"artwork": URIRef("https://w3id.org/heritage-kg/tate/artwork/N00530")}),
    ("text filter: artist name", "artworks_by_artist_name", {"needle": "Hepworth"}),
    ("text filter: title", "titles_containing", {"needle": "storm"}),
    ("taxonomy walk: below 'nature'", "subject_taxonomy", {"top": "nature"}),
    ("taxonomy walk: artworks under 'sea'", "service_artworks_under_subject", {"label": "sea"}),
    ("subject counts", "stats_subjects", {}),
    ("aggregation: medium groups", "stats_media", {}),
    ("aggregation: artworks per decade", "service_artworks_per_decade", {}),
]
CLIENTS = (1, 8, 32)
ROUNDS = {1: 3, 8: 6, 32: 8}  # passes over the eight queries per client count, all clients together


def curator_queries() -> list[tuple[str, str]]:
    queries = []
    for label, name, values in CURATOR_QUERIES:
        query = load_query(name)
        queries.append((label, inline_bindings(query.text, query.bindings(values)) if values else query.text))
    return queries


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
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


# --- the three ways of asking

class InProcess:
    name = "in-process"

    def __init__(self, generation: Path):
        self.store = ox.Store.read_only(str(generation))

    def ask(self, sparql: str) -> int:
        return len(self.store.query(sparql, use_default_graph_as_union=True).serialize(
            format=ox.QueryResultsFormat.JSON))


class OverHttp:
    def __init__(self, name: str, url: str, extra: dict[str, str]):
        self.name, self.url, self.extra = name, url, extra
        self.local = threading.local()

    def ask(self, sparql: str) -> int:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(timeout=300)
        response = self.local.client.post(self.url, data={"query": sparql, **self.extra},
                                          headers={"Accept": JSON_RESULTS})
        response.raise_for_status()
        return len(response.content)


def run_level(target, queries, clients: int) -> dict:
    jobs = [q for _ in range(ROUNDS[clients]) for q in queries]
    latencies: dict[str, list[float]] = {label: [] for label, _ in queries}

    def one(job):
        label, sparql = job
        started = time.perf_counter()
        target.ask(sparql)
        latencies[label].append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, jobs))
    wall = time.perf_counter() - started
    every = sorted(t for ts in latencies.values() for t in ts)
    return {"clients": clients, "requests": len(jobs), "qps": len(jobs) / wall,
            "p50_ms": 1000 * statistics.median(every), "p95_ms": 1000 * every[max(0, int(0.95 * len(every)) - 1)],
            "per_query_p50_ms": {label: 1000 * statistics.median(ts) for label, ts in latencies.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("HERITAGE_KG_STORE", "data/store"),
                        help="an embedded store folder (opened read-only by all three)")
    parser.add_argument("--workers", type=int, default=0,
                        help="the service's query worker processes (HERITAGE_KG_SPARQL_WORKERS; 0: its default)")
    args = parser.parse_args()
    store = Path(args.store)
    generation = (store / "current").resolve()
    if not generation.is_dir():
        raise SystemExit(f"no store at {store}: build one with heritage-kg build-graph")
    queries = curator_queries()
    oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    service_port, peer_port = free_port(), free_port()
    env = {**os.environ, "HERITAGE_KG_SPARQL_MAX_ROWS": "100000", "HERITAGE_KG_SPARQL_WORKERS": str(args.workers)}
    service = subprocess.Popen([str(Path(sys.executable).with_name("heritage-kg")), "serve", "--store", str(store),
                                "--port", str(service_port)], env=env, stdout=subprocess.DEVNULL)
    peer = subprocess.Popen([oxigraph, "serve-read-only", "--location", str(generation),
                             "--bind", f"127.0.0.1:{peer_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{service_port}/sparql", service)
        wait_for(f"http://127.0.0.1:{peer_port}/query?query=ASK%7B%7D", peer)
        targets = [InProcess(generation),
                   OverHttp("service", f"http://127.0.0.1:{service_port}/sparql", {}),
                   OverHttp("oxigraph", f"http://127.0.0.1:{peer_port}/query", {"union-default-graph": "true"})]
        rows = {label: 0 for label, _ in queries}
        for label, sparql in queries:  # warm every cache (each of the service's workers), count the rows
            for target in targets:
                for _ in range(2):
                    target.ask(sparql)
            rows[label] = len(targets[0].store.query(sparql, use_default_graph_as_union=True).serialize(
                format=ox.QueryResultsFormat.CSV).decode().splitlines()) - 1
        results = {t.name: [run_level(t, queries, c) for c in CLIENTS] for t in targets}
    finally:
        for process in (service, peer):
            process.terminate()
            process.wait(timeout=20)
    report(results, rows)
    write_results("sparql_service", {"store": str(store), "rows": rows, "results": results})


def report(results: dict, rows: dict) -> None:
    print(f"{'target':<11} {'clients':>7} {'requests':>8} {'p50 ms':>9} {'p95 ms':>9} {'q/s':>7}")
    for name, levels in results.items():
        for level in levels:
            print(f"{name:<11} {level['clients']:>7} {level['requests']:>8} {level['p50_ms']:>9.1f} "
                  f"{level['p95_ms']:>9.1f} {level['qps']:>7.2f}")
    print("\nper query, 1 client, p50 ms (rows):")
    print(f"{'query':<38} {'rows':>5} {'in-proc':>8} {'service':>8} {'oxigraph':>8} {'svc/in':>6}")
    single = {name: levels[0]["per_query_p50_ms"] for name, levels in results.items()}
    for label in single["in-process"]:
        base, ours, peer = single["in-process"][label], single["service"][label], single["oxigraph"][label]
        print(f"{label:<38} {rows[label]:>5} {base:>8.1f} {ours:>8.1f} {peer:>8.1f} {ours / base:>6.2f}")
    small = [label for label in single["in-process"] if rows[label] <= 1000]
    ratio = statistics.median(single["service"][q] / single["in-process"][q] for q in small)
    eight = {name: levels[1]["qps"] for name, levels in results.items()}
    print(f"\nmedian p50 overhead over in-process (results up to 1,000 rows): {ratio:.2f}x (target <= 1.3x)")
    print(f"throughput at 8 clients: service {eight['service']:.2f} q/s, oxigraph {eight['oxigraph']:.2f} q/s "
          f"(target: service >= oxigraph)")


if __name__ == "__main__":
    main()
