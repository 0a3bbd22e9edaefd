"""The search box's full-text index on the real Tate + CMOA graph: how long building it takes, and
how fast it answers, p50/p95 over a few hundred searches drawn from real titles and names (one and
two words, the last one cut short as it is typed, plus the most common words), measured
  index    in the library (graph/search.py SearchIndex.search), and
  http     through the service: GET /search (JSON) on a loopback uvicorn, one keep-alive client;
side by side with its peer, the SPARQL a curator would otherwise write (kg/queries/titles_containing.rq,
a CONTAINS filter over every title) for a handful of the same words. Goal: under 50 ms.
Writes benchmarks/results/search.json.

    .venv/bin/python benchmarks/search.py --store /tmp/hk-real-store   # a store holding Tate and CMOA
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from rdflib import Literal

from heritage_kg.graph.queries import load_query
from heritage_kg.graph.search import SearchIndex, build_index

from _common import DEFAULT_TATE_SOURCE, ROOT, write_results

DEFAULT_CMOA_SOURCE = ROOT.parent / "shared" / "data" / "cmoa-collection.zip"
COMMON = ["the", "of", "portrait", "landscape", "untitled", "john", "sea", "storm", "snow storm", "turner"]


def real_store(store: str | None):
    """The store at `store` if one is built there, else Tate and CMOA built into a temporary folder."""
    from heritage_kg.graph.build import build_graph
    from heritage_kg.graph.store import open_store

    if store and Path(store, "current").exists():
        return open_store(store, read_only=True), f"existing store {store}"
    folder = store or tempfile.mkdtemp(prefix="hk-search-bench-")
    built = open_store(folder)
    seconds = sum(build_graph(built, name, str(source)).seconds
                  for name, source in (("tate", DEFAULT_TATE_SOURCE), ("cmoa", DEFAULT_CMOA_SOURCE)))
    return built, f"Tate and CMOA built into {folder} in {seconds:.0f} s"


def searches(index: Path, count: int, seed: int) -> list[str]:
    """`count` searches as people type them: one or two words of a real title or name, the last
    cut to at least three letters; and the common words."""
    import sqlite3

    with sqlite3.connect(index) as db:
        texts = [row[0] for row in db.execute("SELECT text FROM entries")]
    rng = random.Random(seed)
    drawn = []
    while len(drawn) < count:
        words = [w for w in rng.choice(texts).split() if w.isalpha()]
        if not words:
            continue
        start = rng.randrange(len(words))
        picked = words[start:start + rng.choice((1, 2))]
        picked[-1] = picked[-1][:max(3, rng.randrange(len(picked[-1]) + 1))]
        drawn.append(" ".join(picked))
    return COMMON + drawn


def percentiles(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"n": len(ordered), "p50_ms": round(1000 * statistics.median(ordered), 3),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 3),
            "max_ms": round(1000 * ordered[-1], 3)}


def time_index(index: SearchIndex, queries: list[str]) -> dict:
    timings = []
    for text in queries:
        started = time.perf_counter()
        index.search(text)
        timings.append(time.perf_counter() - started)
    return percentiles(timings)


def time_http(store_location: str, index_path: Path, queries: list[str]) -> dict:
    import uvicorn

    from api.app import create_app
    from heritage_kg.config import Settings

    app = create_app(Settings(store=store_location, search_index=index_path, sparql_workers=2))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    timings = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Accept": "application/json"}) as client:
            client.get("/search", params={"q": "warm up"})
            for text in queries:
                started = time.perf_counter()
                answer = client.get("/search", params={"q": text})
                timings.append(time.perf_counter() - started)
                answer.raise_for_status()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return percentiles(timings)


def time_sparql_peer(store, words: list[str]) -> dict:
    query = load_query("titles_containing")
    timings = []
    for word in words:
        started = time.perf_counter()
        store.select(query.text, query.bindings({"needle": Literal(word)}))
        timings.append(time.perf_counter() - started)
    return {**percentiles(timings), "words": words}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="a store holding Tate and CMOA (built into a temporary folder if absent)")
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    store, note = real_store(args.store)
    index_path = Path(tempfile.mkdtemp(prefix="hk-search-index-")) / "search.sqlite"
    started = time.perf_counter()
    entries = build_index(store, index_path)
    build_seconds = time.perf_counter() - started
    queries = searches(index_path, args.searches, args.seed)
    index = SearchIndex(index_path)
    time_index(index, queries[:20])  # the page cache warm, as a running service's is
    result = {
        "store": note, "entries": entries, "index_bytes": index_path.stat().st_size,
        "build_seconds": round(build_seconds, 1), "searches": len(queries),
        "index": time_index(index, queries),
        "http": time_http(store.location, index_path, queries),
        "sparql_titles_containing": time_sparql_peer(store, ["storm", "portrait", "the"]),
        "goal_ms": 50,
    }
    for key in ("index", "http", "sparql_titles_containing"):
        print(f"{key:>26}: p50 {result[key]['p50_ms']:8.2f} ms  p95 {result[key]['p95_ms']:8.2f} ms  "
              f"max {result[key]['max_ms']:8.2f} ms  (n={result[key]['n']})")
    print(f"index of {entries:,} titles and names built in {build_seconds:.1f} s; "
          f"written to {write_results('search', result)}")


if __name__ == "__main__":
    main()
