"""Benchmark: subject classification (issue 9, item 6), one section per part, run together or
alone (--sections):
  rest   POST /classify over HTTP against a real `heritage-kg serve` (uvicorn) on loopback, with
         keep-alive clients: p50/p95 of metadata-only requests (a real Tate artwork's title,
         artist name and medium, through the registry model given by --metadata-model) and of a
         224 px JPEG through the ResNet-50 trunk (a fusion model over image vectors, trained
         here in seconds on the synthetic set of tests/classify_models.py: ResNet-50 with its
         seeded random weights costs what ImageNet weights cost), at 1 and 8 clients.
         Goals: metadata-only p95 < 100 ms at 1 client; image p95 < 400 ms.
Writes benchmarks/results/classify.json.

    .venv/bin/python benchmarks/classify.py --store /tmp/lat-store \
        --models-dir /work/results-run/models --metadata-model fusion-tate-level2
"""

from __future__ import annotations

import argparse
import io
import os
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


SECTIONS = {"rest": (rest_section, report_rest)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("HERITAGE_KG_STORE"), required=False,
                        help="an embedded store folder with the Tate collection")
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--metadata-model", required=True, help="a run folder's name under --models-dir")
    parser.add_argument("--requests", type=int, default=100, help="requests per shape and client count")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=list(SECTIONS))
    args = parser.parse_args()
    if not args.store:
        raise SystemExit("give --store (or set HERITAGE_KG_STORE)")
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
