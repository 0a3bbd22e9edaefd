"""What the benchmark scripts share: where the real data is, a Tate store to measure on, and
where results go (benchmarks/results/, not committed)."""

from __future__ import annotations

import json
import tempfile
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
