"""How the platform's costs grow with the collection: replicas of the real Tate graph (1x, 3x,
10x, each replica a collection of its own with minted IRIs: tate, tate-r1, tate-r2, ...) built
on the embedded store, on an Oxigraph server (`oxigraph serve`) and on Virtuoso, each measured
for build time and peak memory, disk size, and the p50/p95 of the curator queries and of
`dataset build`. Results go to benchmarks/results/scale.json after every step (a long run can be
read while it goes on); `--plot` draws docs/scale.png from them.

    PYTHONPATH=src:. python benchmarks/scale.py --sizes 1 3 10 --engines embedded oxigraph-server virtuoso
    PYTHONPATH=src:. python benchmarks/scale.py --plot

A size is reached from the one before by publishing the missing replicas, one build (one
`replace_graphs`) per replica as `heritage-kg build-graph` does per collection: the build time
of a size is the sum of its replicas' publishes, and its peak memory the largest of them (the
builder's process, and for a server the server's own). The mapping from the archive to quads
is the same on every engine and is left out: the replicas are made from one Tate build's quads."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "tests")]

from benchmarks._common import DEFAULT_TATE_SOURCE, RESULTS  # noqa: E402

BASE = "https://w3id.org/heritage-kg/"
ENGINES = ("embedded", "oxigraph-server", "virtuoso")
OUT = RESULTS / "scale.json"
PLOT = ROOT / "docs" / "scale.png"
# the curators' example queries whose graphs a build makes (not the models and links graphs)
SKIPPED_QUERIES = ("graph_builds",)


# --- the replicas

def base_quads(work: Path, source: Path) -> Path:
    """The quads of one real Tate build (every graph), made once."""
    from heritage_kg.graph.build import build_graph
    from heritage_kg.graph.store import open_store

    quads = work / "tate.nq"
    if not quads.exists():
        store = open_store(work / "tate-store")
        build_graph(store, "tate", str(source))
        store.export_quads(quads)
        store.close()
        shutil.rmtree(work / "tate-store")
    return quads


def replica(quads: Path, number: int, work: Path) -> tuple[Path, list[str]]:
    """Replica `number` of the Tate graph as an N-Quads file and the graphs it replaces: 0 is
    Tate itself with the shared graphs (ontology, vocabularies, builds); the others are the Tate
    graph alone with every IRI minted under tate-rN/ and its own collection graph."""
    graph = f"{BASE}graph/tate"
    if number == 0:
        return quads, [graph, f"{BASE}graph/ontology", f"{BASE}graph/vocabularies"]
    name = f"tate-r{number}"
    out = work / f"{name}.nq"
    if not out.exists():
        rewrites = [(f"<{BASE}tate/".encode(), f"<{BASE}{name}/".encode()),
                    (f"<{BASE}tate>".encode(), f"<{BASE}{name}>".encode()),
                    (b'"Tate collection"', f'"Tate collection, replica {number}"'.encode())]
        ending = f" <{graph}> .\n".encode()
        with open(quads, "rb") as source, open(out, "wb") as target:
            for line in source:
                if not line.endswith(ending):
                    continue  # the shared graphs are in replica 0 only
                line = line[:-len(ending)] + f" <{BASE}graph/{name}> .\n".encode()
                for old, new in rewrites:
                    line = line.replace(old, new)
                target.write(line)
    return out, [f"{BASE}graph/{name}"]


# --- one build step in a child process, for its peak memory

def _publish(location: str, server, path: str, graphs: list[str], answer) -> None:
    from heritage_kg.graph.store import open_store

    started = time.perf_counter()
    with open_store(location, server=server) as store:
        store.replace_graphs(Path(path), graphs)
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across the fork and exec of spawn
    answer.send((time.perf_counter() - started, PeakWatcher(os.getpid()).peak()))


def publish_in_child(location: str, server, path: Path, graphs: list[str]) -> tuple[float, int]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_publish, args=(location, server, str(path), graphs, child))
    process.start()
    seconds, peak = parent.recv()
    process.join()
    return seconds, peak


class PeakWatcher:
    """The largest resident size a server process reaches (its VmHWM) while it runs."""

    def __init__(self, pid: int | None):
        self.pid = pid

    def peak(self) -> int:
        if self.pid is None:
            return 0
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


def disk_bytes(folder: Path) -> int:
    """Bytes on disk under `folder`, a file with several hard links counted once. An embedded
    store counts its current generation and that generation's views: the views a newer one
    replaced (after a build, the old generation's) are removed once no reader can want them."""
    current = folder / "current"
    if current.is_symlink():
        generation = current.resolve()
        paths = [*generation.rglob("*"), *(f for view in (folder / "views").glob(f"{generation.name}-*")
                                            for f in view.rglob("*"))]
    else:
        paths = list(folder.rglob("*"))
    seen, total = set(), 0
    for path in paths:
        if path.is_file():
            status = path.stat()
            if (status.st_dev, status.st_ino) not in seen:
                seen.add((status.st_dev, status.st_ino))
                total += status.st_size
    return total


# --- measuring the reads

def curator_queries():
    from heritage_kg.graph.queries import all_queries

    return {name: q for name, q in all_queries().items() if q.example is not None
            and not name.startswith(("models_", "links_")) and name not in SKIPPED_QUERIES}


# The lookups behind a curator's pages, bound to one real Tate artwork and subject: unlike the
# examples above (aggregates, or matches by label that every replica adds to), what they read
# does not grow with the replicas, whose IRIs are their own.
PAGE_LOOKUPS = {
    "artwork_summary": {"artwork": BASE + "tate/artwork/A00001"},
    "ld_contributions": {"artwork": BASE + "tate/artwork/N01506"},
    "subject_statement_sources": {"artwork": BASE + "tate/artwork/A00001"},
    "ld_concept_artworks_count": {"concept": BASE + "tate/subject/60"},
}


def time_queries(store, repeats: int) -> dict:
    from rdflib import URIRef

    from heritage_kg.graph.queries import load_query

    queries = {name: (query, query.bindings(query.example)) for name, query in curator_queries().items()}
    for name, values in PAGE_LOOKUPS.items():
        query = load_query(name)
        queries[name] = (query, query.bindings({k: URIRef(v) for k, v in values.items()}))
    results = {}
    for name, (query, bindings) in queries.items():
        rows, times = 0, []
        for _ in range(repeats):
            started = time.perf_counter()
            rows = len(store.select(query.text, bindings)[1])
            times.append(time.perf_counter() - started)
        results[name] = {"rows": rows, **percentiles(times)}
    return results


def time_dataset_build(store, args, work: Path) -> dict:
    from heritage_kg.learning.datasets import DEFAULT_TASKS, DatasetSpec, build_dataset

    spec = {"tasks": tuple(args.dataset_tasks or DEFAULT_TASKS), "min_examples": args.min_examples}
    times, rows = [], 0
    for run in range(args.dataset_repeats):
        started = time.perf_counter()
        built = build_dataset(store, DatasetSpec(name=f"scale-{run}", **spec), datasets_dir=work / "datasets")
        times.append(time.perf_counter() - started)
        rows = built.manifest.artworks
    shutil.rmtree(work / "datasets", ignore_errors=True)
    return {"rows": rows, **percentiles(times)}


def percentiles(times: list[float]) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_s": round(statistics.median(ordered), 4), "p95_s": round(p95, 4), "runs": len(ordered)}


# --- the engines, each grown size by size

class Engine:
    """One engine's store (its server started on entering), grown replica by replica."""

    def __init__(self, name: str, work: Path, args, stack: ExitStack):
        from sparql_engines import oxigraph_server, virtuoso_server

        self.name, self.server, self.watcher = name, None, PeakWatcher(None)
        folder = work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if name == "embedded":
            self.location, self.data = str(folder / "store"), folder / "store"
        elif name == "oxigraph-server":
            self.location = stack.enter_context(oxigraph_server(folder / "oxigraph"))
            self.data = folder / "oxigraph"
            self.watcher = PeakWatcher(_server_pid(self.location))
        else:
            from heritage_kg.graph.store import server_endpoints

            virtuoso = stack.enter_context(virtuoso_server(folder / "virtuoso", buffers_mb=args.virtuoso_buffers_mb))
            self.location, self.data = virtuoso.url, folder / "virtuoso"
            self.server = server_endpoints(virtuoso.url, "virtuoso", user=virtuoso.user, password=virtuoso.password)
            self.watcher = PeakWatcher(virtuoso.pid)
        self.replicas, self.build_seconds, self.client_peak = 0, 0.0, 0

    def grow_to(self, size: int, quads: Path, work: Path) -> None:
        for number in range(self.replicas, size):
            path, graphs = replica(quads, number, work)
            seconds, peak = publish_in_child(self.location, self.server, path, graphs)
            self.build_seconds += seconds
            self.client_peak = max(self.client_peak, peak)
            print(f"{self.name}: replica {number} published in {seconds:.1f} s", flush=True)
        self.replicas = size

    def measure(self, size: int, args, work: Path) -> dict:
        from heritage_kg.graph.store import open_store

        with open_store(self.location, read_only=True, server=self.server) as store:
            return {"engine": self.name, "size": size, "triples": store.triple_count(),
                    "build_s": round(self.build_seconds, 1), "build_peak_bytes": self.client_peak,
                    "server_peak_bytes": self.watcher.peak(), "disk_bytes": disk_bytes(self.data),
                    "queries": time_queries(store, args.query_repeats),
                    "dataset_build": time_dataset_build(store, args, work)}


def run(sizes: list[int], engines: list[str], quads: Path, work: Path, args, results: dict) -> None:
    """Every engine at the smallest size, then every engine at the next: the small sizes of all
    engines are in the results early in a long run."""
    with ExitStack() as stack:
        started = [Engine(name, work, args, stack) for name in engines]
        for size in sizes:
            for engine in started:
                engine.grow_to(size, quads, work)
                entry = engine.measure(size, args, work)
                results["runs"].append(entry)
                save(results, args.out)
                print(json.dumps({k: v for k, v in entry.items() if k != "queries"}), flush=True)


def _server_pid(url: str) -> int | None:
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                command = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command and command[0].endswith(b"oxigraph") and f"127.0.0.1:{port}".encode() in command:
                return int(proc.name)
    return None


def save(results: dict, out: Path = OUT) -> None:
    """The results so far, and their tables beside them (.md), replaced atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    for path, text in ((out, json.dumps(results, indent=2)), (out.with_suffix(".md"), table(results))):
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)


# --- the plot and the table

def plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    figure, axes = plt.subplots(1, 4, figsize=(19, 4.5))
    for engine in ENGINES:
        mine = sorted((r for r in runs if r["engine"] == engine), key=lambda r: r["triples"])
        if not mine:
            continue
        triples = [r["triples"] for r in mine]
        axes[0].plot(triples, [r["build_s"] for r in mine], "o-", label=engine)
        axes[1].plot(triples, [r["dataset_build"]["p50_s"] for r in mine], "o-", label=engine)
        for axis, page in ((axes[2], False), (axes[3], True)):
            points = [(r["triples"], p50) for r in mine if (p50 := _median_p50(r, page=page)) is not None]
            if points:
                axis.plot(*zip(*points, strict=True), "o-", label=engine)
    titles = ("build", "dataset build (p50)", "curators' example queries (median p50)", "page lookups (median p50)")
    for axis, title in zip(axes, titles, strict=True):
        low = min(r["triples"] for r in runs)
        axis.set(xscale="log", yscale="log", xlabel="triples", ylabel="seconds", title=title)
        if low:
            # a linear reference through each panel's first point
            ys = [line.get_ydata()[0] for line in axis.get_lines()]
            if ys:
                xs = [low, 10 * low]
                axis.plot(xs, [min(ys), 10 * min(ys)], "k:", label="linear")
        axis.legend(fontsize=8)
        axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(PLOT, dpi=110)
    print(f"wrote {PLOT}")


def _median_p50(run: dict, *, page: bool) -> float | None:
    """The median p50 of a run's page lookups (`page`) or of its curators' example queries."""
    times = [q["p50_s"] for name, q in run["queries"].items() if (name in PAGE_LOOKUPS) == page]
    return statistics.median(times) if times else None


def table(results: dict) -> str:
    lines = ["| engine | size | triples | build s | build peak MB | server peak MB | disk MB | dataset p50/p95 s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(results["runs"], key=lambda r: (ENGINES.index(r["engine"]), r["size"])):
        lines.append(f"| {r['engine']} | {r['size']}x | {r['triples']:,} | {r['build_s']:.0f} | "
                     f"{r['build_peak_bytes'] / 2**20:,.0f} | {r['server_peak_bytes'] / 2**20:,.0f} | "
                     f"{r['disk_bytes'] / 2**20:,.0f} | {r['dataset_build']['p50_s']:.1f} / "
                     f"{r['dataset_build']['p95_s']:.1f} |")
    names = sorted({name for r in results["runs"] for name in r["queries"]})
    lines += ["", "| engine | size | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for r in sorted(results["runs"], key=lambda r: (ENGINES.index(r["engine"]), r["size"])):
        cells = [f"{r['queries'][n]['p50_s'] * 1000:,.0f} / {r['queries'][n]['p95_s'] * 1000:,.0f} "
                 f"({r['queries'][n]['rows']:,})" if n in r["queries"] else "" for n in names]
        lines.append(f"| {r['engine']} | {r['size']}x | " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", growth(results)])


def growth(results: dict) -> str:
    """The goal on reads, engine by engine: each curator query's p50 at the largest size against
    the smallest, judged (within 2x) only where the answer kept its number of rows."""
    lines = ["| engine | query | rows | p50 smallest -> largest, ms | growth | fixed answer within 2x |",
             "|---|---|---|---|---|---|"]
    for engine in ENGINES:
        mine = sorted((r for r in results["runs"] if r["engine"] == engine), key=lambda r: r["size"])
        if len(mine) < 2:
            continue
        first, last = mine[0], mine[-1]
        for name in sorted(set(first["queries"]) & set(last["queries"])):
            before, after = first["queries"][name], last["queries"][name]
            ratio = after["p50_s"] / before["p50_s"] if before["p50_s"] else float("inf")
            fixed = before["rows"] == after["rows"]
            verdict = ("yes" if ratio <= 2 else "**no**") if fixed else "(answer grows)"
            lines.append(f"| {engine} {first['size']}x -> {last['size']}x | {name} | {before['rows']:,} -> "
                         f"{after['rows']:,} | {before['p50_s'] * 1000:,.1f} -> {after['p50_s'] * 1000:,.1f} | "
                         f"{ratio:.2f}x | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--source", type=Path, default=DEFAULT_TATE_SOURCE)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--query-repeats", type=int, default=7)
    parser.add_argument("--dataset-repeats", type=int, default=3)
    # the dataset `dataset build` makes (the default one; a small --source such as
    # tests/fixtures/tate, for a quick try, needs its own tasks and --min-examples 1)
    parser.add_argument("--dataset-tasks", nargs="+", default=None)
    parser.add_argument("--min-examples", type=int, default=700)
    parser.add_argument("--virtuoso-buffers-mb", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=OUT, help="where the results go (and their tables, as .md)")
    parser.add_argument("--plot", type=Path, nargs="*", default=None,
                        help="only draw docs/scale.png and print the tables, from these result files (default: --out)")
    args = parser.parse_args()
    if args.plot is not None:
        # the runs of every file given, later files' runs of an engine and size replacing earlier ones
        runs = {}
        for path in args.plot or [args.out]:
            for entry in json.loads(path.read_text())["runs"]:
                runs[entry["engine"], entry["size"]] = entry
        results = {"runs": list(runs.values())}
        plot(results)
        print(table(results))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="heritage-kg-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {"command": " ".join(sys.argv), "sizes": args.sizes, "engines": args.engines,
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(), "runs": []}
    started = time.perf_counter()
    quads = base_quads(work, args.source)
    results["tate_build_s"] = round(time.perf_counter() - started, 1)
    save(results, args.out)
    run(sorted(args.sizes), args.engines, quads, work, args, results)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save(results, args.out)
    plot(results)
    print(table(results))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
