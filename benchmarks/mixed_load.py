"""Reads, curator updates and rebuilds together on a served real Tate store (issue 7, section 6):
`heritage-kg serve` with two query workers, keep-alive readers doing one-row lookups (each
phase its own artworks, none asked twice: every answer is computed, none read from the result
cache, whose answers an update outdates), and
  1. reads only (4 readers),
  2. the same reads with 5 curator updates a second,
  3. 8 readers and 5 updates a second while a CMOA build and then a Tate rebuild run,
then a check that every acknowledged update is in the store; and, before the service starts,
the cost of building CMOA beside Tate against building it into an empty store. Writes benchmarks/results/mixed_load.json.

    PYTHONPATH=src:. .venv/bin/python benchmarks/mixed_load.py [--store /tmp/hk-tate-store]
(the store is built from the Tate zip when the folder holds none; the run adds CMOA and
curator notes to it)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from _common import DEFAULT_TATE_SOURCE, ROOT, write_results
from sparql_service import free_port, wait_for

CMOA_SOURCE = DEFAULT_TATE_SOURCE.with_name("cmoa-collection.zip")
TOKEN = "mixed-load-benchmark"
HK = "https://w3id.org/heritage-kg/ontology#"
CURATOR = "https://w3id.org/heritage-kg/graph/curator"
TATE_GRAPH = "https://w3id.org/heritage-kg/graph/tate"
# artworks each phase looks up, more than its readers ask for in --seconds (about 1,000 a second)
PHASE_ARTWORKS = 20_000
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), "HERITAGE_KG_SPARQL_WORKERS": "2",
       "HERITAGE_KG_UPDATE_TOKEN": TOKEN}


def cli(*args: str, store: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "heritage_kg.cli", *args, "--store", str(store)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def timed_build(collection: str, source: Path, store: Path) -> float:
    started = time.perf_counter()
    build = cli("build-graph", "--collection", collection, "--source", str(source), store=store)
    if build.wait() != 0:
        raise SystemExit(f"the {collection} build failed: {build.stderr.read().decode()[-2000:]}")
    return time.perf_counter() - started


class Load:
    """Readers and an optional writer against the service until stopped."""

    def __init__(self, url: str, artworks: list[str], readers: int, updates_per_s: float, first_note: int):
        self.url, self.artworks = url, artworks
        self.readers, self.updates_per_s = readers, updates_per_s
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.tate_counts: set[int] = set()
        self.acknowledged: list[int] = []
        self.refused = 0
        self.update_latencies: list[float] = []
        self.next_note = first_note
        self.stop = threading.Event()

    def read(self, number: int) -> None:
        with httpx.Client(timeout=60) as client:
            i = number
            while not self.stop.is_set():
                artwork = self.artworks[i % len(self.artworks)]
                i += self.readers
                query = f"SELECT ?title WHERE {{ <{artwork}> <{HK}title> ?title }} LIMIT 1"
                started = time.perf_counter()
                response = client.post(f"{self.url}/sparql", data={"query": query},
                                       headers={"Accept": "application/sparql-results+json"})
                self.latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or not response.json()["results"]["bindings"]:
                    self.errors.append(f"{response.status_code} {response.text[:200]}")

    def count_tate(self) -> None:
        """The number of Tate artworks, asked once a second: it must never change."""
        query = f"SELECT (COUNT(?a) AS ?n) WHERE {{ GRAPH <{TATE_GRAPH}> {{ ?a a <{HK}Artwork> }} }}"
        with httpx.Client(timeout=60) as client:
            while not self.stop.wait(1.0):
                response = client.post(f"{self.url}/sparql", data={"query": query},
                                       headers={"Accept": "application/sparql-results+json"})
                if response.status_code == 200:
                    self.tate_counts.add(int(response.json()["results"]["bindings"][0]["n"]["value"]))
                else:
                    self.errors.append(f"count: {response.status_code} {response.text[:200]}")

    def write(self) -> None:
        with httpx.Client(timeout=60) as client:
            due = time.perf_counter()
            while not self.stop.wait(max(0.0, due - time.perf_counter())):
                due += 1 / self.updates_per_s  # a steady rate, however long each update takes
                number, self.next_note = self.next_note, self.next_note + 1
                update = f'INSERT DATA {{ GRAPH <{CURATOR}> {{ <urn:note:{number}> <{HK}curatorNote> "note" }} }}'
                started = time.perf_counter()
                response = client.post(f"{self.url}/sparql/update", content=update.encode(), headers={
                    "Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
                self.update_latencies.append(time.perf_counter() - started)
                if response.status_code == 204:
                    self.acknowledged.append(number)
                else:
                    self.refused += 1

    def run(self, during) -> dict:
        threads = [threading.Thread(target=self.read, args=(n,)) for n in range(self.readers)]
        threads.append(threading.Thread(target=self.count_tate))
        if self.updates_per_s:
            threads.append(threading.Thread(target=self.write))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        extra = during()
        self.stop.set()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        ms = sorted(1000 * t for t in self.latencies)
        return {"readers": self.readers, "updates_per_s": self.updates_per_s, "seconds": wall,
                "reads": len(ms), "reads_per_s": len(ms) / wall, "p50_ms": statistics.median(ms),
                "p99_ms": ms[int(0.99 * (len(ms) - 1))], "max_ms": ms[-1], "read_errors": len(self.errors),
                "first_errors": self.errors[:3], "tate_artwork_counts": sorted(self.tate_counts),
                "updates_acknowledged": len(self.acknowledged), "updates_refused": self.refused,
                "update_max_ms": 1000 * max(self.update_latencies, default=0.0), **(extra or {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a store folder holding Tate only (built there if absent; default: a "
                                        "temporary folder). With CMOA already in it, the CMOA build is a rebuild")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the reads-only and update phases")
    parser.add_argument("--no-builds", action="store_true", help="only the reads-only and update phases")
    args = parser.parse_args()
    results: dict = {}
    store = Path(args.store or tempfile.mkdtemp(prefix="hk-mixed-load-"))
    if not (store / "current").exists():
        print(f"building Tate into {store}, then CMOA beside it and into an empty store ...")
        results["tate_build_alone_s"] = timed_build("tate", DEFAULT_TATE_SOURCE, store)
        # a second collection's build, side by side with the same build into an empty store
        results["cmoa_beside_tate_s"] = timed_build("cmoa", CMOA_SOURCE, store)
        with tempfile.TemporaryDirectory(prefix="hk-cmoa-alone-") as empty:
            results["cmoa_alone_s"] = timed_build("cmoa", CMOA_SOURCE, Path(empty) / "store")
    port = free_port()
    service = subprocess.Popen([sys.executable, "-m", "heritage_kg.cli", "serve", "--store", str(store),
                                "--port", str(port)], env=ENV, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    results["store"] = str(store)
    try:
        wait_for(f"{url}/sparql", service)
        response = httpx.post(f"{url}/sparql", data={"query": f"SELECT ?a WHERE {{ GRAPH <{TATE_GRAPH}> "
                                                             f"{{ ?a a <{HK}Artwork> }} }} LIMIT {3 * PHASE_ARTWORKS}"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=60)
        artworks = [b["a"]["value"] for b in response.json()["results"]["bindings"]]
        first_note = time.time_ns()  # notes of earlier runs stay apart
        pause = lambda: time.sleep(args.seconds)  # noqa: E731
        # each phase looks up its own artworks, none twice: what an update costs the readers is
        # measured on computed answers, not on the result cache's (which an update outdates)
        phase = [artworks[n * PHASE_ARTWORKS:(n + 1) * PHASE_ARTWORKS] for n in range(3)]
        results["reads_only"] = Load(url, phase[0], 4, 0, first_note).run(pause)
        with_updates = Load(url, phase[1], 4, 5, first_note)
        results["with_updates"] = with_updates.run(pause)
        def builds() -> dict:
            return {"cmoa_rebuild_s": timed_build("cmoa", CMOA_SOURCE, store),
                    "tate_rebuild_s": timed_build("tate", DEFAULT_TATE_SOURCE, store)}

        during_builds = Load(url, phase[2], 8, 5, with_updates.next_note)
        if not args.no_builds:
            results["during_builds"] = during_builds.run(builds)
        acknowledged = with_updates.acknowledged + during_builds.acknowledged
        query = (f"SELECT (COUNT(?n) AS ?c) WHERE {{ GRAPH <{CURATOR}> {{ ?n <{HK}curatorNote> ?t }} "
                 f"FILTER(STRSTARTS(STR(?n), 'urn:note:') && xsd:integer(STRAFTER(STR(?n), 'urn:note:')) >= {first_note}) }}")
        response = httpx.post(f"{url}/sparql", data={"query": "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> " + query},
                              headers={"Accept": "application/sparql-results+json"}, timeout=60)
        found = int(response.json()["results"]["bindings"][0]["c"]["value"])
        results["updates_acknowledged"], results["updates_found"] = len(acknowledged), found
    finally:
        service.terminate()
        service.wait(timeout=30)
    results["costs"] = store_costs(store)
    if not args.store:
        shutil.rmtree(store, ignore_errors=True)
    report(results)
    write_results("mixed_load", results)


def store_costs(store: Path, repeats: int = 20) -> dict:
    """What the design rests on, in ms (medians): a lookup on an open view, the same after the
    view is reopened (what a reader pays after each update), an update on the open writer, and an
    update that opens and closes a writer for itself (what every update cost before)."""
    from heritage_kg.graph.store import open_store

    lookup = f'ASK {{ ?a <{HK}title> ?t }}'
    note = f'INSERT DATA {{ GRAPH <{CURATOR}> {{ <urn:note:cost> <{HK}curatorNote> "cost" }} }}'

    def median_ms(action) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            action()
            times.append(1000 * (time.perf_counter() - started))
        return statistics.median(times)

    reader, writer = open_store(store, read_only=True), open_store(store)
    reader.ask(lookup)
    costs = {"lookup_ms": median_ms(lambda: reader.ask(lookup)),
             "reopen_and_lookup_ms": median_ms(lambda: (reader.close(), reader.ask(lookup))),
             "update_on_open_writer_ms": median_ms(lambda: writer.update(note))}
    writer.close()

    def update_with_its_own_writer() -> None:
        with open_store(store) as own:
            own.update(note)

    costs["update_opening_a_writer_ms"] = median_ms(update_with_its_own_writer)
    return costs


def report(results: dict) -> None:
    print(f"{'phase':<14} {'readers':>7} {'upd/s':>5} {'reads/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8} "
          f"{'errors':>6} {'upd ok':>6} {'refused':>7} {'upd max ms':>10}")
    for phase in ("reads_only", "with_updates", "during_builds"):
        if phase not in results:
            continue
        r = results[phase]
        print(f"{phase:<14} {r['readers']:>7} {r['updates_per_s']:>5g} {r['reads_per_s']:>8.0f} {r['p50_ms']:>7.1f} "
              f"{r['p99_ms']:>7.1f} {r['max_ms']:>8.1f} {r['read_errors']:>6} {r['updates_acknowledged']:>6} "
              f"{r['updates_refused']:>7} {r['update_max_ms']:>10.1f}")
    print("costs (median ms): " + ", ".join(f"{name} {value:.2f}" for name, value in results["costs"].items()))
    ratio = results["with_updates"]["reads_per_s"] / results["reads_only"]["reads_per_s"]
    print(f"\nread throughput with 5 updates/s: {ratio:.0%} of reads only (goal >= 80%), "
          f"p99 {results['with_updates']['p99_ms']:.1f} ms (goal < 50 ms)")
    if "during_builds" not in results:
        return
    builds = results["during_builds"]
    print(f"slowest read during the builds: {builds['max_ms']:.0f} ms (goal < 1,000 ms); Tate artwork counts seen: "
          f"{builds['tate_artwork_counts']}")
    print(f"updates acknowledged {results['updates_acknowledged']}, found in the store {results['updates_found']}; "
          f"refused during the builds {builds['updates_refused']}, slowest {builds['update_max_ms']:.0f} ms")
    print(f"under that load: CMOA rebuild beside Tate {builds['cmoa_rebuild_s']:.1f} s, "
          f"Tate rebuild beside CMOA {builds['tate_rebuild_s']:.1f} s")
    if "cmoa_alone_s" in results:
        print(f"without load: Tate alone {results['tate_build_alone_s']:.1f} s; CMOA beside Tate "
              f"{results['cmoa_beside_tate_s']:.1f} s, into an empty store {results['cmoa_alone_s']:.1f} s "
              f"(ratio {results['cmoa_beside_tate_s'] / results['cmoa_alone_s']:.2f}; goal: about 1)")


if __name__ == "__main__":
    main()
