"""Benchmark: subject classification (issue 9, item 6), one section per part, run together or
alone (--sections):
  rest   POST /classify over HTTP against a real `heritage-kg serve` (uvicorn) on loopback, with
         keep-alive clients: p50/p95 of metadata-only requests (a real Tate artwork's title,
         artist name and medium, through the registry model given by --metadata-model) and of a
         224 px JPEG through the ResNet-50 trunk (a fusion model over image vectors, trained
         here in seconds on the synthetic set of tests/classify_models.py: ResNet-50 with its
         seeded random weights costs what ImageNet weights cost), at 1 and 8 clients.
         Goals: metadata-only p95 < 100 ms at 1 client; image p95 < 400 ms.
  bulk   the whole CMOA collection classified and written back by the real command,
         `heritage-kg classify --collection cmoa --model M` (--bulk-model, default
         --metadata-model), in a process of its own: the command's wall time (start-up, model
         load, reading the artworks, text embedding with an empty title cache, the model, the
         write-back), its CPU time and objects per second; then a rerun, which replaces the first
         run's predictions (titles cached by then), while a client asks `heritage-kg serve` a
         curator's lookups at a steady rate (--rate): their latency during the bulk write-back
         against the same lookups with the service idle; then the review queue of each of the
         model's tasks over the rerun's predictions. The runs are dropped at the end.
         Goal: CMOA in under 5 minutes, text embedding included. The store must hold Tate,
         CMOA, the artist links (CMOA artists borrow the Tate artist they are owl:sameAs to)
         and the model in its models graph:
           heritage-kg build-graph --source ../shared/data/tate-collection.zip --store S
           heritage-kg build-graph --source ../shared/data/cmoa-collection.zip --collection cmoa --store S
           heritage-kg link-artists --no-authorities --store S
           HERITAGE_KG_MODELS_DIR=D heritage-kg models register M --store S
Writes benchmarks/results/classify.json.

    .venv/bin/python benchmarks/classify.py --store /tmp/lat-store \
        --models-dir /work/results-run/models --metadata-model fusion-tate-level2 [--sections rest bulk]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rdflib import URIRef

from _common import ROOT, KeepAliveClient, free_port, timed, wait_for, write_results

CLIENTS = (1, 8)
GOALS_MS = {"metadata": 100.0, "image": 400.0}  # p95 at 1 client


# --- rest: POST /classify over HTTP

class Classifier(KeepAliveClient):
    """POST /classify asked over HTTP."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url

    def ask(self, request: dict) -> float:
        started = time.perf_counter()
        response = self.http.post(self.url, params=request.get("params"), data=request.get("data"),
                                  files=request.get("files"))
        response.raise_for_status()
        response.json()
        return time.perf_counter() - started


def metadata_requests(store_location: str, count: int) -> list[dict]:
    """Real Tate artworks' title, first artist's name and medium text, as a form would send them."""
    from heritage_kg.graph.queries import load_query
    from heritage_kg.graph.store import open_store

    with open_store(store_location, read_only=True) as store:
        _, artworks = store.select(load_query("service_artwork_titles").text)
        summary = load_query("artwork_summary")
        requests = []
        for row in artworks[::max(1, len(artworks) // count)][:count]:
            _, described = store.select(summary.text, summary.bindings({"artwork": URIRef(str(row["artwork"]))}))
            found = described[0] if described else {}
            requests.append({"data": {"title": str(found.get("title", row["title"])),
                                      "artist": str(found.get("artists", "")).split("; ")[0],
                                      "medium": str(found.get("medium", ""))}})
    return requests


def image_requests(count: int, model: str) -> list[dict]:
    """224 x 224 JPEGs, each different (noise over a colour), for the image model."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    requests = []
    for i in range(count):
        pixels = np.clip(rng.integers(0, 90, (224, 224, 3)) + rng.integers(0, 160, 3), 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, format="JPEG", quality=90)
        requests.append({"params": {"model": model}, "files": {"image": (f"art{i}.jpg", out.getvalue(), "image/jpeg")}})
    return requests


def image_model(workdir: Path) -> Path:
    """The synthetic set's fusion model over ResNet-50 image vectors, title and medium."""
    sys.path.insert(0, str(ROOT / "tests"))
    from classify_models import synthetic_classifiers

    return synthetic_classifiers(workdir / "synthetic", count=60).models / "both"


def rest_section(args, workdir: Path) -> dict:
    models = workdir / "models"  # the service's models folder: the two models side by side
    models.mkdir()
    (models / "metadata").symlink_to(Path(args.models_dir, args.metadata_model).resolve())
    (models / "image").symlink_to(image_model(workdir).resolve())
    port = free_port()
    env = {**os.environ, "HERITAGE_KG_MODELS_DIR": str(models), "HERITAGE_KG_DEFAULT_MODEL": "metadata",
           "HERITAGE_KG_FEATURES_DIR": str(workdir / "features"), "HERITAGE_KG_SPARQL_WORKERS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen([sys.executable, "-m", "heritage_kg.cli", "serve", "--store", args.store,
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/status", server, seconds=120)
        classifier = Classifier(f"http://127.0.0.1:{port}/classify")
        shapes = {"metadata": metadata_requests(args.store, args.requests),
                  "image": image_requests(args.requests, "image")}
        results = {}
        for shape, requests in shapes.items():
            for request in requests[:3]:  # the model's first load, and warm caches
                classifier.ask(request)
            results[shape] = [timed(classifier, requests, clients) for clients in CLIENTS]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"metadata_model": str(Path(args.models_dir, args.metadata_model)), "shapes": results,
            "goals_p95_ms_at_1_client": GOALS_MS,
            "met": {shape: results[shape][0]["p95_ms"] < GOALS_MS[shape] for shape in results}}


def report_rest(result: dict) -> None:
    print("\n## POST /classify over HTTP\n")
    print("| request | clients | requests | per s | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    for shape, rows in result["shapes"].items():
        for row in rows:
            print(f"| {shape} | {row['clients']} | {row['requests']} | {row['qps']:.1f} | {row['p50_ms']:.1f} | "
                  f"{row['p95_ms']:.1f} |")
    for shape, met in result["met"].items():
        print(f"\n{shape}: p95 at 1 client {'under' if met else 'OVER'} the goal of "
              f"{result['goals_p95_ms_at_1_client'][shape]:.0f} ms")


# --- bulk: the whole of CMOA classified and written back; SPARQL latency meanwhile

LOOKUPS = ("artwork_summary", "predictions_for_artwork")  # the named queries a curator's page asks


def bulk_section(args, workdir: Path) -> dict:
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
    features = workdir / "features"  # an empty title cache
    features.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "HERITAGE_KG_STORE": args.store, "HERITAGE_KG_MODELS_DIR": str(args.models_dir),
           "HERITAGE_KG_FEATURES_DIR": str(features)}
    command = [sys.executable, "-m", "heritage_kg.cli"]
    port = free_port()
    service = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/sparql"
    report: dict = {"store": args.store, "model": args.bulk_model, "cmoa_artworks": len(artworks),
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
                process = subprocess.Popen([*command, "classify", "--collection", "cmoa", "--model", args.bulk_model],
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
            report["review_queue"] = _review_queue_latencies(client, f"http://127.0.0.1:{port}/review", args.repeats)
        report["runs"] = runs
        report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        for run in runs:
            subprocess.run([*command, "predictions", "drop", run["graph"]], env=env, check=False,
                           capture_output=True)
        service.terminate()
        service.wait(timeout=30)
    report["goal_cmoa_under_300_s"] = runs[0]["command_seconds"] < 300
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
    if not times:
        return {"requests": 0, "errors": errors}
    return {"requests": len(times), "errors": errors, **_percentiles_ms(times), "max_ms": round(max(times), 1)}


def _percentiles_ms(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1)}


def _review_queue_latencies(client, url: str, repeats: int) -> dict:
    """GET /review?task=T (the default 50 entries, JSON) over the run's predictions, for each task
    of the model: the queue scores every open prediction of the task, so it grows with them."""
    from heritage_kg.learning.datasets import DEFAULT_TASKS

    answers = {}
    for task in DEFAULT_TASKS:
        times, size = [], 0
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(url, params={"task": task})
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            size = len(response.json()["open"])
        answers[task] = {"entries": size, **_percentiles_ms(times)}
    return answers


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


def report_bulk(result: dict) -> None:
    print(f"\n## CMOA ({result['cmoa_artworks']:,} objects) classified and written back by heritage-kg classify\n")
    print("| run | command s | CPU s | objects per s | predictions | artworks with one |")
    print("|---|---|---|---|---|---|")
    for run in result["runs"]:
        print(f"| {run['run']} | {run['command_seconds']:.0f} | {run['command_cpu_seconds']:.0f} | "
              f"{run['objects_per_second']:.0f} | {run['predictions']:,} | {run['artworks_with_predictions']:,} |")
    print(f"\nthe first run {'under' if result['goal_cmoa_under_300_s'] else 'OVER'} the goal of 5 minutes")
    print(f"\nSPARQL lookups at {result['sparql_rate_per_s']:g} a second:\n")
    print("| service | requests | errors | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for name, row in (("idle", result["sparql_idle"]), ("during the bulk write-back", result["runs"][1]["sparql_during"])):
        print(f"| {name} | {row['requests']} | {row['errors']} | {row.get('p50_ms', '-')} | {row.get('p95_ms', '-')} | "
              f"{row.get('max_ms', '-')} |")
    print("\nThe review queue (GET /review?task=..., 50 entries) over the rerun's predictions:\n")
    print("| task | p50 ms | p95 ms |")
    print("|---|---|---|")
    for task, row in result["review_queue"].items():
        print(f"| {task} | {row['p50_ms']} | {row['p95_ms']} |")


SECTIONS = {"rest": (rest_section, report_rest), "bulk": (bulk_section, report_bulk)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("HERITAGE_KG_STORE"), required=False,
                        help="an embedded store folder with the Tate collection")
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--metadata-model", required=True, help="a run folder's name under --models-dir")
    parser.add_argument("--requests", type=int, default=100, help="requests per shape and client count")
    parser.add_argument("--bulk-model", help="bulk: the registered model (default: --metadata-model)")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="bulk: SPARQL lookups with the service idle")
    parser.add_argument("--rate", type=float, default=5.0, help="bulk: SPARQL lookups a second (a curator's pages)")
    parser.add_argument("--repeats", type=int, default=5, help="bulk: review queue requests per task")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=list(SECTIONS))
    args = parser.parse_args()
    if not args.store:
        raise SystemExit("give --store (or set HERITAGE_KG_STORE)")
    args.bulk_model = args.bulk_model or args.metadata_model
    results = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="hk-bench-classify-") as workdir:
        for name in args.sections:
            run, report = SECTIONS[name]
            section_dir = Path(workdir, name)
            section_dir.mkdir()
            results[name] = run(args, section_dir)
            report(results[name])
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\nwritten to {write_results('classify', results)}")


if __name__ == "__main__":
    main()
