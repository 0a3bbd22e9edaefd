"""The SPARQL service against its peer, `oxigraph serve-read-only` over the same store, in one
run, with keep-alive clients (one HTTP connection per client):
  shapes   three query shapes (an aggregation, a one-row lookup, a SELECT of 20,000 rows) at 1, 8
           and 32 clients, answered by the service with its result cache off (so every answer is
           computed and serialized) and by oxigraph;
  repeats  each shape asked again and again by one client: the service answers from its cache;
  curator  a curators' mix at 8 clients in which most queries repeat (cache on);
p50/p95, ratios service/oxigraph, and the cache's hit ratio from /status.
Writes benchmarks/results/sparql_service.json.

    .venv/bin/python benchmarks/sparql_service.py --store /tmp/hk-real-store
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rdflib import URIRef

from heritage_kg.graph.queries import inline_bindings, load_query

from _common import DEFAULT_TATE_SOURCE, KeepAliveClient, free_port, tate_store, timed, wait_for, write_results

JSON_RESULTS = "application/sparql-results+json"
LOOKUP_ARTWORK = "https://w3id.org/heritage-kg/tate/artwork/N00530"
CLIENTS = (1, 8, 32)
# requests per client count: enough for a steady p50, few enough to finish in a few minutes
REQUESTS = {"aggregation": {1: 9, 8: 24, 32: 64}, "lookup": {1: 60, 8: 160, 32: 320},
            "20,000 rows": {1: 9, 8: 16, 32: 64}}
REPEATS = 60
# (what a curator asks, the named query, its parameters)
CURATOR_QUERIES = [
    ("text filter: artist name", "artworks_by_artist_name", {"needle": "Hepworth"}),
    ("text filter: title", "titles_containing", {"needle": "storm"}),
    ("taxonomy walk: below 'nature'", "subject_taxonomy", {"top": "nature"}),
    ("taxonomy walk: artworks under 'sea'", "service_artworks_under_subject",
     {"scheme": URIRef("https://w3id.org/heritage-kg/tate/subjects"), "label": "sea"}),
    ("subject counts", "stats_subjects", {}),
    ("aggregation: medium groups", "stats_media", {}),
    ("aggregation: artworks per decade", "service_artworks_per_decade", {}),
]
CURATOR_REQUESTS, CURATOR_CLIENTS, NEW_QUERY_SHARE = 240, 8, 0.1


def named(name: str, values: dict | None = None) -> str:
    query = load_query(name)
    return inline_bindings(query.text, query.bindings(values)) if values else query.text


def shapes() -> dict[str, str]:
    return {"aggregation": named("service_types_by_count"),
            "lookup": named("artwork_summary", {"artwork": URIRef(LOOKUP_ARTWORK)}),
            "20,000 rows": named("service_artwork_titles")}


class Endpoint(KeepAliveClient):
    """A SPARQL endpoint asked over HTTP."""

    def __init__(self, name: str, url: str, extra: dict[str, str]):
        super().__init__()
        self.name, self.url, self.extra = name, url, extra

    def ask(self, sparql: str) -> float:
        started = time.perf_counter()
        response = self.http.post(self.url, data={"query": sparql, **self.extra}, headers={"Accept": JSON_RESULTS})
        response.raise_for_status()
        response.read()
        return time.perf_counter() - started


def cache_status(base: str) -> dict:
    return httpx.get(f"{base}/status").json()["result_cache"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("HERITAGE_KG_STORE"),
                        help="an embedded Tate store folder (built there from --source if absent)")
    parser.add_argument("--source", default=str(DEFAULT_TATE_SOURCE))
    parser.add_argument("--workers", type=int, default=0,
                        help="the service's query worker processes (HERITAGE_KG_SPARQL_WORKERS; 0: its default)")
    args = parser.parse_args()
    store, note = tate_store(args.store, args.source, "hk-bench-sparql-")
    print(note)
    generation = Path(store.location, "current").resolve()
    oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    heritage_kg = str(Path(sys.executable).with_name("heritage-kg"))
    ports = {name: free_port() for name in ("computed", "cached", "oxigraph")}
    env = {**os.environ, "HERITAGE_KG_SPARQL_MAX_ROWS": "100000", "HERITAGE_KG_SPARQL_WORKERS": str(args.workers)}
    processes = {
        name: subprocess.Popen([heritage_kg, "serve", "--store", store.location, "--port", str(ports[name])],
                               env={**env, "HERITAGE_KG_SPARQL_CACHE_BYTES": "0" if name == "computed" else
                                    str(256 << 20)}, stdout=subprocess.DEVNULL)
        for name in ("computed", "cached")}
    processes["oxigraph"] = subprocess.Popen(
        [oxigraph, "serve-read-only", "--location", str(generation), "--bind", f"127.0.0.1:{ports['oxigraph']}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for name, process in processes.items():
            wait_for(f"http://127.0.0.1:{ports[name]}/" + ("query?query=ASK%7B%7D" if name == "oxigraph" else "sparql"),
                     process)
        endpoints = {name: Endpoint(name, f"http://127.0.0.1:{ports[name]}/sparql", {}) for name in ("computed", "cached")}
        endpoints["oxigraph"] = Endpoint("oxigraph", f"http://127.0.0.1:{ports['oxigraph']}/query",
                                         {"union-default-graph": "true"})
        results = run(endpoints, f"http://127.0.0.1:{ports['cached']}")
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)
    report(results)
    write_results("sparql_service", {"store": store.location, **results})


def run(endpoints: dict[str, Endpoint], cached_base: str) -> dict:
    computed, cached, peer = endpoints["computed"], endpoints["cached"], endpoints["oxigraph"]
    for sparql in shapes().values():  # warm the stores' caches and every worker of both services
        for endpoint in (computed, cached, peer):
            for _ in range(4):
                endpoint.ask(sparql)
    shape_results = {}
    for label, sparql in shapes().items():
        shape_results[label] = []
        for clients in CLIENTS:
            queries = [sparql] * REQUESTS[label][clients]
            ours, theirs = timed(computed, queries, clients), timed(peer, queries, clients)
            shape_results[label].append({"clients": clients, "service": ours, "oxigraph": theirs,
                                         "p50_ratio": ours["p50_ms"] / theirs["p50_ms"]})
    repeats = {}
    for label, sparql in shapes().items():
        ours, theirs = timed(cached, [sparql] * REPEATS, 1), timed(peer, [sparql] * REPEATS, 1)
        repeats[label] = {"service_cached": ours, "oxigraph": theirs,
                          "speedup_p50": theirs["p50_ms"] / ours["p50_ms"]}
    curator = curator_mix(cached, peer, cached_base)
    return {"shapes": shape_results, "repeats": repeats, "curator_mix": curator}


def curator_mix(cached: Endpoint, peer: Endpoint, cached_base: str) -> dict:
    """Most requests repeat one of the curators' queries; a tenth look up an artwork not asked before."""
    rng = random.Random(7)
    repeated = [named(name, values) for _, name, values in CURATOR_QUERIES] + list(shapes().values())[:2]
    artworks = [f"https://w3id.org/heritage-kg/tate/artwork/N{n:05d}" for n in rng.sample(range(1000, 6000), 400)]
    mix = [named("artwork_summary", {"artwork": URIRef(artworks.pop())}) if rng.random() < NEW_QUERY_SHARE
           else rng.choice(repeated) for _ in range(CURATOR_REQUESTS)]
    before = cache_status(cached_base)
    ours = timed(cached, mix, CURATOR_CLIENTS)
    after = cache_status(cached_base)
    theirs = timed(peer, mix, CURATOR_CLIENTS)
    hits, misses = after["hits"] - before["hits"], after["misses"] - before["misses"]
    return {"service": ours, "oxigraph": theirs, "p50_ratio": ours["p50_ms"] / theirs["p50_ms"],
            "qps_ratio": ours["qps"] / theirs["qps"], "cache_hit_ratio": hits / max(1, hits + misses),
            "cache": after}


def report(results: dict) -> None:
    print("shapes (service with its cache off, every answer computed), p50 / p95 ms:")
    print(f"{'shape':<13} {'clients':>7} {'service':>17} {'oxigraph':>17} {'ratio p50':>9}")
    for label, levels in results["shapes"].items():
        for level in levels:
            ours, theirs = level["service"], level["oxigraph"]
            print(f"{label:<13} {level['clients']:>7} {ours['p50_ms']:>8.1f} /{ours['p95_ms']:>7.1f} "
                  f"{theirs['p50_ms']:>8.1f} /{theirs['p95_ms']:>7.1f} {level['p50_ratio']:>9.2f}")
    worst = max(level["p50_ratio"] for levels in results["shapes"].values() for level in levels)
    print(f"worst p50 ratio service/oxigraph: {worst:.2f} (goal <= 1.2)")
    print("\nrepeats, 1 client (service answers from its cache), p50 ms:")
    for label, repeat in results["repeats"].items():
        print(f"{label:<13} service {repeat['service_cached']['p50_ms']:>7.2f}  oxigraph "
              f"{repeat['oxigraph']['p50_ms']:>7.2f}  oxigraph/service {repeat['speedup_p50']:>6.1f}x (goal >= 20x)")
    mix = results["curator_mix"]
    print(f"\ncurator mix, {CURATOR_CLIENTS} clients, {CURATOR_REQUESTS} requests, "
          f"{1 - NEW_QUERY_SHARE:.0%} repeats: service p50 {mix['service']['p50_ms']:.1f} ms "
          f"p95 {mix['service']['p95_ms']:.1f} ms {mix['service']['qps']:.0f} q/s; oxigraph p50 "
          f"{mix['oxigraph']['p50_ms']:.1f} ms p95 {mix['oxigraph']['p95_ms']:.1f} ms {mix['oxigraph']['qps']:.0f} q/s; "
          f"ratio p50 {mix['p50_ratio']:.2f}, throughput {mix['qps_ratio']:.1f}x; "
          f"cache hit ratio {mix['cache_hit_ratio']:.0%} ({mix['cache']['entries']} entries, "
          f"{mix['cache']['bytes'] / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
