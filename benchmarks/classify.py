"""Benchmark: classification (issue 9, item 6).

Bulk (`bulk`): the whole CMOA collection classified and written back by the real command,
`heritage-kg classify --collection cmoa --model M`, in a process of its own: the whole command's
wall time (start-up, model load, reading the artworks, text embedding with an empty title cache,
the model, the write-back), its CPU time, and objects per second; then a rerun, which replaces the
first run's predictions (title vectors cached by then), while a client asks the SPARQL service
(`heritage-kg serve`) a curator's lookups at a steady rate: their latency during the bulk
write-back, against the same lookups with the service idle, in the same run. The runs written are dropped at
the end, leaving the store as it was. Goal: CMOA in under 5 minutes, text embedding included.

The store holds Tate, CMOA and the artist links (CMOA artists borrow the Tate artist they are
owl:sameAs to) and the model in its models graph:

    heritage-kg build-graph --source ../shared/data/tate-collection.zip --store S
    heritage-kg build-graph --source ../shared/data/cmoa-collection.zip --collection cmoa --store S
    heritage-kg link-artists --no-authorities --store S
    HERITAGE_KG_MODELS_DIR=DIR heritage-kg models register M --store S
    .venv/bin/python benchmarks/classify.py bulk --store S --models-dir DIR --model M

Writes benchmarks/results/classify_bulk.json.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, write_results
from sparql_service import free_port, wait_for

LOOKUPS = ("artwork_summary", "predictions_for_artwork")  # the named queries a curator's page asks


def bulk(args) -> dict:
    import httpx
    from rdflib import URIRef

    from heritage_kg.config import get_settings
    from heritage_kg.graph.queries import inline_bindings, load_query
    from heritage_kg.graph.store import open_store
    from heritage_kg.inference.writeback import collection_artworks

    base = get_settings().base_iri
    reader = open_store(args.store, read_only=True)
    artworks = collection_artworks(reader, "cmoa", base_iri=base)
    sample = random.Random(0).sample(artworks, min(200, len(artworks)))
    queries = [inline_bindings(load_query(name).text, {"artwork": URIRef(artwork)})
               for artwork in sample for name in LOOKUPS]
    features = Path(tempfile.mkdtemp(prefix="classify-bench-features-"))  # an empty title cache
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "HERITAGE_KG_STORE": args.store, "HERITAGE_KG_MODELS_DIR": str(args.models_dir),
           "HERITAGE_KG_FEATURES_DIR": str(features)}
    command = [sys.executable, "-m", "heritage_kg.cli"]
    port = free_port()
    service = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/sparql"
    report: dict = {"store": args.store, "model": args.model, "cmoa_artworks": len(artworks),
                    "cpus": os.cpu_count(), "sparql_rate_per_s": args.rate,
                    "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    runs = []
    try:
        wait_for(url, service, seconds=120)
        with httpx.Client(timeout=60) as client:
            for query in queries[:20]:  # warm the service's workers
                _ask(client, url, query)
            report["sparql_idle"] = _latencies(client, url, queries, args.rate, stop=_after(args.idle_seconds))
            # the first run alone, for the command's own time; the rerun with the readers beside it
            for attempt, readers in (("first run (empty title cache)", False),
                                     ("rerun (replaces the first run's predictions), readers beside it", True)):
                cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                process = subprocess.Popen([*command, "classify", "--collection", "cmoa", "--model", args.model],
                                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                during = (_latencies(client, url, queries, args.rate, stop=lambda p=process: p.poll() is not None)
                          if readers else None)
                out, err = process.communicate()
                seconds = time.perf_counter() - started
                cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if process.returncode != 0:
                    raise SystemExit(f"classify failed ({process.returncode}): {out}\n{err}")
                graph = re.search(r"into <([^>]+)>", out).group(1)
                classified = _count(reader, "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { GRAPH ?g { ?p "
                                    "<https://w3id.org/heritage-kg/ontology#predictionFor> ?a } }", graph)
                predictions = _count(reader, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?p a "
                                     "<https://w3id.org/heritage-kg/ontology#SubjectPrediction> } }", graph)
                cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
                runs.append({"run": attempt, "graph": graph, "command_seconds": round(seconds, 1),
                             "command_cpu_seconds": round(cpu, 1), "objects_per_second": round(len(artworks) / seconds, 1),
                             "artworks_with_predictions": classified, "predictions": predictions,
                             "command_output": out.strip().splitlines(), "sparql_during": during})
                print(f"{attempt}: {seconds:.1f} s ({cpu:.0f} s of CPU), {len(artworks) / seconds:.0f} objects/s, "
                      f"{predictions:,} predictions about {classified:,} artworks", flush=True)
        report["runs"] = runs
        report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        for run in runs:
            subprocess.run([*command, "predictions", "drop", run["graph"]], env=env, check=False,
                           capture_output=True)
        service.terminate()
        service.wait(timeout=30)
        shutil.rmtree(features, ignore_errors=True)
    report["goal_cmoa_under_300_s"] = runs[0]["command_seconds"] < 300
    print(f"SPARQL lookups at {args.rate}/s: idle {report['sparql_idle']}; during the bulk write-back "
          f"{runs[1]['sparql_during']}")
    return report


def _latencies(client, url: str, queries: list[str], rate: float, *, stop) -> dict:
    """The lookups asked at `rate` a second (a curator's pages), until `stop()`: latency in ms."""
    times, errors, number = [], 0, 0
    next_at = time.perf_counter()
    while not stop():
        query = queries[number % len(queries)]
        number += 1
        started = time.perf_counter()
        if _ask(client, url, query):
            times.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
        next_at += 1 / rate
        time.sleep(max(0.0, next_at - time.perf_counter()))
    times.sort()
    if not times:
        return {"requests": 0, "errors": errors}
    return {"requests": len(times), "errors": errors, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "max_ms": round(times[-1], 1)}


def _ask(client, url: str, query: str) -> bool:
    response = client.post(url, data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return response.status_code == 200


def _after(seconds: float):
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() >= deadline


def _count(store, query: str, graph: str) -> int:
    from rdflib import URIRef

    store.refresh()
    _, rows = store.select(query, {"g": URIRef(graph)})
    return int(rows[0]["n"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = parser.add_subparsers(dest="part", required=True)
    bulk_part = parts.add_parser("bulk", help="CMOA classified and written back; SPARQL latency meanwhile")
    bulk_part.add_argument("--store", required=True, help="a store folder with Tate, CMOA, links and the model")
    bulk_part.add_argument("--models-dir", required=True, type=Path)
    bulk_part.add_argument("--model", required=True)
    bulk_part.add_argument("--idle-seconds", type=float, default=30.0)
    bulk_part.add_argument("--rate", type=float, default=5.0, help="SPARQL lookups a second (a curator's pages)")
    args = parser.parse_args()
    if args.part == "bulk":
        out = write_results("classify_bulk", bulk(args))
        print(f"written {out}")


if __name__ == "__main__":
    main()
