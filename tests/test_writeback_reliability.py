"""Write-back under stress: a bulk write-back process killed half way leaves the store as it was,
and runs written while a live service answers SPARQL reads lose nothing and duplicate nothing,
as readers see it and as the final counts, computed here from what was written, show."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, store_of_fixtures
from live_service import serving
from test_writeback import PREFIXES, _world, expected, predictions, quads, stored

from heritage_kg.config import Settings, get_settings
from heritage_kg.graph.store import open_store
from heritage_kg.graph.store.locks import StoreLocks
from heritage_kg.inference.writeback import PredictionRun, write_predictions


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("writeback-reliability")
    store = store_of_fixtures(root / "store")
    yield _world(store, root)
    store.close()


# A bulk write-back in its own process: a run over every artwork, through the store's publish,
# whose classifier stalls half way (as a long classification does) until the process is killed.
STALLING_WRITE_BACK = """
import sys, time
from pathlib import Path
from heritage_kg.graph.store import open_store
from heritage_kg.inference.predict import ArtworkPrediction, SubjectScore
from heritage_kg.inference.writeback import PredictionRun, write_predictions
root, model, concept, flag = sys.argv[1:5]
artworks = sys.argv[5:]
store = open_store(root)
def classified():
    for number, artwork in enumerate(artworks):
        if number == len(artworks) // 2:
            Path(flag).touch()
            time.sleep(600)
        yield ArtworkPrediction(artwork, model, [SubjectScore(concept, "c", concept, 0.9, 0.5, True)], [], [])
run = PredictionRun.start(model, base_iri="https://w3id.org/heritage-kg/")
write_predictions(store, run, classified(), artworks=artworks, publish=True)
"""


def test_a_bulk_write_back_killed_half_way_leaves_the_store_as_it_was(world, tmp_path):
    store, model = world.store, world.models[0]
    root = Path(store.location)
    write_predictions(store, PredictionRun.start(model, base_iri=get_settings().base_iri),
                      predictions(world, model, world.artworks, seed=50), artworks=world.artworks, publish=True)
    before = quads(store)
    flag = tmp_path / "half-way"
    process = subprocess.Popen([sys.executable, "-c", STALLING_WRITE_BACK, str(root), model, world.concepts[0][0],
                                str(flag), *world.artworks], env=_environment(), stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert StoreLocks(root).build_running()  # the write is under way: half the run is in the loader
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    reader = open_store(root, read_only=True)
    assert quads(reader) == before
    # the next run goes through, and the killed one's leftovers are gone
    rerun = PredictionRun.start(model, base_iri=get_settings().base_iri)
    made = predictions(world, model, world.artworks, seed=51)
    write_predictions(store, rerun, made, artworks=world.artworks, publish=True)
    assert stored(reader, model) == expected(made, rerun.iri)
    assert len(list((root / "generations").iterdir())) == 1


# A bulk write-back in its own process: the predictions of a file, through the store's publish.
BULK_WRITE_BACK = """
import json, sys
from heritage_kg.graph.store import open_store
from heritage_kg.inference.predict import ArtworkPrediction, SubjectScore
from heritage_kg.inference.writeback import PredictionRun, write_predictions
root, model, batch = sys.argv[1:4]
made = [ArtworkPrediction(artwork, model, [SubjectScore(c, "c", c, p, 0.3, True) for c, p in subjects], [], [])
        for artwork, subjects in json.loads(open(batch).read())]
run = PredictionRun.start(model, base_iri="https://w3id.org/heritage-kg/")
write_predictions(open_store(root), run, made, artworks=[p.artwork for p in made], publish=True)
"""


def _environment() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}


CONSISTENCY = PREFIXES + """
SELECT ?model ?artwork (COUNT(DISTINCT ?run) AS ?runs) (COUNT(?p) AS ?predictions) (MAX(?rank) AS ?last)
WHERE { GRAPH ?g { ?run hk:usedModel ?model . ?p prov:wasGeneratedBy ?run ; hk:predictionFor ?artwork ;
                   hk:rank ?rank } }
GROUP BY ?model ?artwork
"""


def test_runs_written_while_a_live_service_reads_lose_and_duplicate_nothing(world, tmp_path):
    """Model A's predictions for every artwork are written in bulk (the store's publish, in a
    process of its own) twice, while curators
    classify-and-write single artworks with model B through POST /classify?write=true, and two
    readers query the service all along."""
    from api.app import create_app

    store = world.store
    model_a, model_b = world.models
    settings = Settings(store=store.location, update_token="curator-token", sparql_workers=2,
                        models_dir=Path(store.location).parent / "models",
                        features_dir=Path(store.location).parent / "features")
    last: dict[tuple[str, str], set[str]] = {}  # (model, artwork) -> the concepts last written
    lock = threading.Lock()
    problems: list[str] = []
    reads = [0]
    writing = threading.Event()
    writing.set()

    def bulk_runs(folder):
        # in a process of its own, as `heritage-kg classify` runs beside the service
        for seed in range(2):
            made = predictions(world, model_a, world.artworks, seed=100 + seed)
            batch = folder / f"bulk-{seed}.json"
            batch.write_text(json.dumps([[p.artwork, [[s.concept, s.probability] for s in p.predicted]]
                                         for p in made]))
            process = subprocess.run([sys.executable, "-c", BULK_WRITE_BACK, store.location, model_a, str(batch)],
                                     env=_environment(), capture_output=True, text=True, timeout=300)
            if process.returncode != 0:
                problems.append(f"the bulk write-back failed: {process.stderr[-2000:]}")
                continue
            with lock:
                last.update({(model_a, p.artwork): {s.concept for s in p.predicted} for p in made})

    def classify_and_write(url):
        with httpx.Client(timeout=60) as client:
            for number in range(12):
                artwork = world.artworks[number % len(world.artworks)]
                response = client.post(f"{url}/classify", params={"write": "true", "model": "writeback-b",
                                                                  "curator": "alice"},
                                       data={"artwork": artwork}, headers={"Authorization": "Bearer curator-token"})
                if response.status_code != 200:
                    problems.append(f"classify answered {response.status_code}: {response.text[:200]}")
                    continue
                answer = response.json()
                with lock:
                    last[(model_b, artwork)] = {s["concept"] for task in answer["tasks"]
                                                for s in [task, *task["labels"]] if s["predicted"]}

    def read_on(url):
        with httpx.Client(timeout=30) as client:
            while writing.is_set():
                response = client.post(f"{url}/sparql", data={"query": CONSISTENCY},
                                       headers={"Accept": "application/sparql-results+json"})
                if response.status_code != 200:
                    problems.append(f"read answered {response.status_code}: {response.text[:200]}")
                    continue
                for row in response.json()["results"]["bindings"]:
                    runs, count, top = (int(row[k]["value"]) for k in ("runs", "predictions", "last"))
                    if runs != 1 or count != top:
                        problems.append(f"{row['artwork']['value']}: {runs} runs, {count} predictions, last rank {top}")
                reads[0] += 1

    def recorded(work):
        """A thread's work, whose failure is a problem the test reports, not a lost thread."""
        def run(*args):
            try:
                work(*args)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{work.__name__} failed: {exc!r}")
        return run

    with serving(create_app(settings)) as url:
        readers = [threading.Thread(target=recorded(read_on), args=(url,)) for _ in range(2)]
        writers = [threading.Thread(target=recorded(bulk_runs), args=(tmp_path,)),
                   threading.Thread(target=recorded(classify_and_write), args=(url,))]
        for thread in readers + writers:
            thread.start()
        for thread in writers:
            thread.join()
        writing.clear()
        for thread in readers:
            thread.join()
    assert problems == []
    assert reads[0] > 5
    # the final counts, from what was written last for each model and artwork
    reader = open_store(store.location, read_only=True)
    for model in (model_a, model_b):
        found = stored(reader, model)
        assert {a: set(c) for a, c in found.items()} == {
            artwork: concepts for (m, artwork), concepts in last.items() if m == model and concepts}
        assert all(len({v[2] for v in concepts.values()}) == 1 for concepts in found.values())
